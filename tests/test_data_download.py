"""jaxconv.data downloads, against a local HTTP server on 127.0.0.1 serving generated IDX files.

No test touches the internet: every URL is 127.0.0.1, and proxies are switched off so that a
proxy set in the environment cannot route these requests elsewhere.
"""

import hashlib
import http.server
import re
import socket
import threading

import numpy as np
import pytest

from jaxconv import data
from jaxconv.data import download
from jaxconv.data.idx import IDX_NAMES

FILES = [stem + ".gz" for stem in IDX_NAMES.values()]


@pytest.fixture(scope="module")
def payload(tmp_path_factory):
    """File name -> bytes of a tiny MNIST-like set (6 train, 3 test images of 4x4)."""
    rng = np.random.default_rng(0)
    arrays = {
        "x_train": rng.integers(0, 256, (6, 4, 4), dtype=np.uint8),
        "y_train": np.array([0, 1, 2, 3, 4, 9], np.uint8),
        "x_test": rng.integers(0, 256, (3, 4, 4), dtype=np.uint8),
        "y_test": np.array([5, 6, 7], np.uint8),
    }
    directory = tmp_path_factory.mktemp("served")
    for role, stem in IDX_NAMES.items():
        data.write_idx(directory / (stem + ".gz"), arrays[role])
    return {name: (directory / name).read_bytes() for name in FILES}


@pytest.fixture
def digests(payload):
    return {name: hashlib.sha256(raw).hexdigest() for name, raw in payload.items()}


@pytest.fixture
def server(payload, monkeypatch):
    """Serves `payload` at http://127.0.0.1:<port>/; `server.mode[name] = "cut"` truncates."""
    for var in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("no_proxy", "*")
    mode, hits = {}, []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            name = self.path.lstrip("/")
            hits.append(name)
            if name not in payload:
                self.send_error(404)
                return
            body = payload[name]
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            # "cut": promise the whole body, send half, hang up (HTTP/1.0 closes after each reply)
            self.wfile.write(body[: len(body) // 2] if mode.get(name) == "cut" else body)

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    httpd.url, httpd.mode, httpd.hits = f"http://127.0.0.1:{httpd.server_address[1]}/", mode, hits
    yield httpd
    httpd.shutdown()
    httpd.server_close()
    thread.join()


@pytest.fixture
def closed_port_url():
    """A URL on 127.0.0.1 where nothing listens: connecting is refused at once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


def _leftovers(directory):
    return sorted(p.name for p in directory.iterdir()) if directory.exists() else []


def test_download_verifies_caches_and_loads(tmp_path, server, digests, closed_port_url):
    ds = data.load("mnist", cache_dir=tmp_path, base_url=server.url, sha256=digests)
    assert ds.name == "mnist" and ds.class_names == tuple("0123456789")
    assert ds.x_train.shape == (6, 4, 4, 1) and ds.x_test.shape == (3, 4, 4, 1)
    np.testing.assert_array_equal(ds.y_test, [5, 6, 7])
    assert _leftovers(tmp_path / "mnist") == sorted(FILES)  # no temporary files left behind
    assert data.is_cached("mnist", cache_dir=tmp_path)
    assert "mnist" in data.available(present_only=True, cache_dir=tmp_path)
    # Cached and verified: a second load works offline and asks the server for nothing.
    before = len(server.hits)
    again = data.load("mnist", cache_dir=tmp_path, base_url=closed_port_url, sha256=digests)
    np.testing.assert_array_equal(again.x_train, ds.x_train)
    assert len(server.hits) == before


def test_environment_variables_choose_cache_and_server(tmp_path, server, digests, monkeypatch):
    monkeypatch.setenv("JAXCONV_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("JAXCONV_FASHION_MNIST_URL", server.url)
    assert data.default_cache_dir() == tmp_path
    ds = data.load("fashion-mnist", sha256=digests, n_train=2)
    assert ds.class_names[0] == "T-shirt/top" and ds.x_train.shape == (2, 4, 4, 1)
    assert _leftovers(tmp_path / "fashion-mnist") == sorted(FILES)


def test_hash_mismatch_is_rejected_and_nothing_is_kept(tmp_path, server, digests):
    wrong = {**digests, FILES[1]: "0" * 64}
    message = (
        rf"could not download mnist file {FILES[1]}\. Tried: {re.escape(server.url + FILES[1])}: "
        rf"download of .* does not match its sha256: got {digests[FILES[1]]}, expected 0{{64}}; "
        rf"the file was discarded\."
    )
    with pytest.raises(data.DownloadError, match=message):
        data.fetch("mnist", tmp_path, base_url=server.url, sha256=wrong)
    assert FILES[1] not in _leftovers(tmp_path)
    assert not [n for n in _leftovers(tmp_path) if n.startswith(".")]


def test_interrupted_download_leaves_no_trusted_file(tmp_path, server, digests, payload):
    server.mode[FILES[0]] = "cut"
    with pytest.raises(data.DownloadError, match=rf"could not download mnist file {FILES[0]}\. Tried: .*{FILES[0]}: download of .* was cut short: got \d+ of {len(payload[FILES[0]])} bytes"):
        data.load("mnist", cache_dir=tmp_path, base_url=server.url, sha256=digests)
    assert _leftovers(tmp_path / "mnist") == []
    server.mode.clear()  # the server recovers: the next load completes
    assert data.load("mnist", cache_dir=tmp_path, base_url=server.url, sha256=digests).x_train.shape == (6, 4, 4, 1)


def test_offline_error_says_where_to_put_the_files(tmp_path, closed_port_url, digests):
    directory = tmp_path / "mnist"
    message = (
        rf"fetch: could not download mnist file {FILES[0]} \(network unreachable\?\)\. Tried: "
        rf"{re.escape(closed_port_url + FILES[0])}: .*refused.*\. To work offline, place the files "
        rf"{re.escape(', '.join(FILES))} in {re.escape(str(directory))}\."
    )
    with pytest.raises(data.DownloadError, match=message):
        data.load("mnist", cache_dir=tmp_path, base_url=closed_port_url, sha256=digests)
    assert _leftovers(directory) == []
    with pytest.raises(data.DownloadError, match=rf"fetch: mnist file {FILES[0]} is not cached and download=False; place the files in {re.escape(str(directory))}\."):
        data.load("mnist", cache_dir=tmp_path, download=False, sha256=digests)


def test_http_error_is_reported_without_the_offline_hint(tmp_path, server, digests):
    with pytest.raises(data.DownloadError, match=r"could not download mnist file .*\. Tried: .*HTTP Error 404") as info:
        data.fetch("mnist", tmp_path, base_url=server.url + "missing/", sha256=digests)
    assert "network unreachable" not in str(info.value)


def test_corrupt_cached_file_is_never_trusted(tmp_path, server, digests):
    directory = tmp_path / "mnist"
    data.fetch("mnist", directory, base_url=server.url, sha256=digests)
    (directory / FILES[2]).write_bytes(b"corrupt")
    assert data.is_cached("mnist", cache_dir=tmp_path)  # cheap: present, not verified
    with pytest.raises(data.DownloadError, match=rf"{FILES[2]} is not cached \(the cached {re.escape(str(directory / FILES[2]))} does not match its sha256\) and download=False"):
        data.fetch("mnist", directory, sha256=digests, download=False)
    paths = data.fetch("mnist", directory, base_url=server.url, sha256=digests)
    assert data.sha256_file(paths[FILES[2]]) == digests[FILES[2]]  # downloaded again, replaced


def test_mirrors_are_tried_in_order(tmp_path, server, digests, closed_port_url, monkeypatch):
    remote = download.RemoteSet(mirrors=(closed_port_url, server.url), sha256=digests, url_env="UNSET_X")
    monkeypatch.setitem(download.REMOTE, "mnist", remote)
    assert sorted(data.fetch("mnist", tmp_path)) == sorted(FILES)


def test_shipped_digests_and_names():
    for name, remote in download.REMOTE.items():
        assert name in data.DATASETS
        assert sorted(remote.sha256) == sorted(FILES)
        assert all(re.fullmatch(r"[0-9a-f]{64}", d) for d in remote.sha256.values())
        assert remote.mirrors and all(m.endswith("/") for m in remote.mirrors)
    assert download.REMOTE["mnist"].sha256 != download.REMOTE["fashion-mnist"].sha256
    with pytest.raises(ValueError, match=r"fetch: `name` must be one of \['fashion-mnist', 'mnist'\], got name='digits'"):
        data.fetch("digits", "/nonexistent")
