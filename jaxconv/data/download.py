"""Downloading MNIST-style IDX files into a cache, verified and written atomically.

A file is trusted only if its sha256 matches the digest shipped here (or passed in). A download
streams into a temporary file in the destination directory, is hashed as it arrives, and is moved
into place with `os.replace` only after the digest matched, so an interrupted, truncated or
tampered download never leaves a file under the final name. A cached file whose digest does not
match is never used: it is downloaded again and replaced. Only `urllib` is used.
"""

from __future__ import annotations

import dataclasses
import hashlib
import http.client
import os
import tempfile
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path

__all__ = ["DownloadError", "REMOTE", "RemoteSet", "default_cache_dir", "fetch", "sha256_file"]

_CHUNK = 1 << 16


class DownloadError(OSError):
    """A file could not be downloaded, or what arrived did not match its sha256."""


@dataclasses.dataclass(frozen=True)
class RemoteSet:
    """Where an IDX set lives and what its files hash to.

    Attributes:
        mirrors: base URLs tried in order; a file's URL is ``base + file name``.
        sha256: file name -> hex sha256 of the ``.gz`` file as served.
        url_env: environment variable that, when set, replaces `mirrors` with one base URL.
    """

    mirrors: tuple[str, ...]
    sha256: Mapping[str, str]
    url_env: str


# Digests as published by torchvision and TensorFlow Datasets for these exact files.
REMOTE = {
    "mnist": RemoteSet(
        mirrors=(
            "https://ossci-datasets.s3.amazonaws.com/mnist/",
            "https://storage.googleapis.com/cvdf-datasets/mnist/",
        ),
        sha256={
            "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
            "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
            "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
            "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
        },
        url_env="JAXCONV_MNIST_URL",
    ),
    "fashion-mnist": RemoteSet(
        mirrors=("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
        sha256={
            "train-images-idx3-ubyte.gz": "08dc20ab1689590a0bcd66e874647b6ee8464e2d501b5a3f1f78831db19a3fdc",
            "train-labels-idx1-ubyte.gz": "b0197879cbda89f3dc7b894f9fd52b858e68ea4182b6947c9d8c2b67e5f18dcc",
            "t10k-images-idx3-ubyte.gz": "78dcbbfb5a27efaf1b6c1d616caca68560be8766c5bffcb2791df9273a534229",
            "t10k-labels-idx1-ubyte.gz": "42bd18137a62d5998cdeae52bf3a0676ac6b706f5cf8439b47bb5b151ae3dccf",
        },
        url_env="JAXCONV_FASHION_MNIST_URL",
    ),
}


def default_cache_dir() -> Path:
    """``$JAXCONV_DATA_DIR`` if set, else ``~/.cache/jaxconv``."""
    env = os.environ.get("JAXCONV_DATA_DIR")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "jaxconv"


def sha256_file(path: str | os.PathLike) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _download_to(url: str, dest: Path, sha256: str, timeout: float) -> None:
    """Downloads `url` to `dest` atomically; raises DownloadError, leaving nothing, on failure."""
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    try:
        digest, received = hashlib.sha256(), 0
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as response:
            expected_len = response.headers.get("Content-Length")
            for chunk in iter(lambda: response.read(_CHUNK), b""):
                digest.update(chunk)
                out.write(chunk)
                received += len(chunk)
            if expected_len is not None and received != int(expected_len):
                raise DownloadError(
                    f"download of {url} was cut short: got {received} of {expected_len} bytes."
                )
            out.flush()
            os.fsync(out.fileno())
        if digest.hexdigest() != sha256.lower():
            raise DownloadError(
                f"download of {url} does not match its sha256: got {digest.hexdigest()}, "
                f"expected {sha256.lower()}; the file was discarded."
            )
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; a cache may be shared between users
        os.replace(tmp, dest)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def fetch(
    name: str,
    directory: str | os.PathLike,
    *,
    base_url: str | None = None,
    sha256: Mapping[str, str] | None = None,
    download: bool = True,
    timeout: float = 60.0,
) -> dict[str, Path]:
    """Makes sure the four files of a remote IDX set are in `directory`, verified.

    A file already there is used when its sha256 matches; otherwise it is downloaded from each
    mirror in turn (or from `base_url`, or ``$<RemoteSet.url_env>``) and replaces the old one.

    Args:
        name: a key of `REMOTE` (``"mnist"`` or ``"fashion-mnist"``).
        directory: where the files live; created if missing.
        base_url: one base URL to use instead of the mirrors, e.g. ``"http://127.0.0.1:8000/"``.
        sha256: file name -> expected hex sha256, overriding the shipped digest of that file
            (for files you generated yourself, as the tests do).
        download: if False, raise instead of downloading a missing or mismatching file.
        timeout: socket timeout in seconds for each connection.

    Returns:
        File name -> verified path, for the four files.

    Raises:
        ValueError: `name` is not a remote set.
        DownloadError: a file is not cached and no mirror delivered it intact; the message says
            where to place the files by hand.
    """
    if name not in REMOTE:
        raise ValueError(f"fetch: `name` must be one of {sorted(REMOTE)}, got name={name!r}.")
    remote = REMOTE[name]
    digests = {**remote.sha256, **(sha256 or {})}
    base_url = base_url or os.environ.get(remote.url_env)
    mirrors = (base_url,) if base_url else remote.mirrors
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = {}
    for file_name, digest in digests.items():
        dest = directory / file_name
        if dest.is_file() and sha256_file(dest) == digest.lower():
            paths[file_name] = dest
            continue
        stale = f" (the cached {dest} does not match its sha256)" if dest.exists() else ""
        if not download:
            raise DownloadError(
                f"fetch: {name} file {file_name} is not cached{stale} and download=False; "
                f"place the files in {directory}."
            )
        failures, unreachable = [], False
        for base in mirrors:
            url = base.rstrip("/") + "/" + file_name
            try:
                _download_to(url, dest, digest, timeout)
                break
            except (OSError, http.client.HTTPException) as e:  # URLError, timeouts, cut bodies
                no_route = isinstance(e, urllib.error.URLError) and not isinstance(
                    e, urllib.error.HTTPError
                )
                unreachable |= no_route
                # no_route: e is a URLError and has a reason (pyright does not follow the flag).
                failures.append(f"{url}: {e.reason if no_route else e}")  # pyright: ignore[reportAttributeAccessIssue]
        else:
            hint = " (network unreachable?)" if unreachable else ""
            raise DownloadError(
                f"fetch: could not download {name} file {file_name}{stale}{hint}. Tried: "
                f"{'; '.join(failures)}. To work offline, place the files "
                f"{', '.join(digests)} in {directory}."
            )
        paths[file_name] = dest
    return paths
