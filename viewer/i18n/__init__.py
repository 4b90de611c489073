"""English and Simplified Chinese labels for every piece of the viewer's text.

One table, `TEXT`: key -> {language -> template}. Templates use `str.format` fields. The current
language is module state switched by `set_language`; widgets re-read their labels through `tr` in
their ``retranslate()``. What names a connectivity kind (its label, short label and weight-map
hint) is not here but in the kind's record (`jaxconv.kinds`), read through `kind_label` and
`kind_hint`. The bundled CJK font subset (``fonts/``) is made from exactly the characters of the
``zh_CN`` column and of the records' ``zh_CN`` texts (see ``viewer/i18n/font_subset.py``), so a
new label means a new subset.
"""

from __future__ import annotations

from jaxconv import kinds

__all__ = ["LANGUAGES", "TEXT", "current_language", "kind_hint", "kind_label", "set_language",
           "show_column_as", "tr"]

#: Language code -> its name in that language (for the menu).
LANGUAGES = {"en": "English", "zh_CN": "简体中文"}

TEXT: dict[str, dict[str, str]] = {
    "app_title": {"en": "jaxconv — dense vs locally connected vs convolution",
                  "zh_CN": "jaxconv — 全连接 vs 局部连接 vs 卷积"},
    "menu_file": {"en": "&File", "zh_CN": "文件(&F)"},
    "save_session": {"en": "Save session…", "zh_CN": "保存会话…"},
    "load_session": {"en": "Load session…", "zh_CN": "加载会话…"},
    "export_png": {"en": "Export panels as PNG…", "zh_CN": "导出面板为 PNG…"},
    "export_csv": {"en": "Export metrics as CSV…", "zh_CN": "导出指标为 CSV…"},
    "quit": {"en": "Quit", "zh_CN": "退出"},
    "menu_language": {"en": "&Language", "zh_CN": "语言(&L)"},
    "menu_view": {"en": "&View", "zh_CN": "视图(&V)"},
    "settings_panel": {"en": "Training settings", "zh_CN": "训练设置"},
    "presentation": {"en": "Presentation mode", "zh_CN": "演示模式"},
    # The pages (viewer/gui/pages.py): tab titles, claims, and the live numbers (lessons.py).
    "page_costs": {"en": "1  What a connection costs", "zh_CN": "1  连接的代价"},
    "page_wiring": {"en": "2  Local connection", "zh_CN": "2  局部连接"},
    "page_sharing": {"en": "3  Weight sharing", "zh_CN": "3  权重共享"},
    "page_learning": {"en": "4  Learning", "zh_CN": "4  学习"},
    "page_backprop": {"en": "5  Backprop", "zh_CN": "5  反向传播"},
    "page_all": {"en": "All panels", "zh_CN": "全部面板"},
    "claim_costs": {"en": "Wiring every pixel of a 1000×1000 image to every unit of a layer as "
                          "large takes 10¹² weights (4 TB); giving each unit its own 10×10 window, "
                          "10⁸ (400 MB); sharing one 10×10 window, 100. The models here keep that "
                          "order.",
                    "zh_CN": "把 1000×1000 图像的每个像素连到同样大小的一层的每个神经元，需要一万亿个权重"
                             "（4 TB）；每个神经元只看自己的 10×10 窗口，需要一亿个（400 MB）；共享同一个 "
                             "10×10 窗口，只需 100 个。这里的模型也是这个顺序。"},
    "claim_wiring": {"en": "A dense unit is wired to every pixel; a locally-connected or conv "
                           "unit to one small window, and a unit one layer up to a wider one: the "
                           "receptive field grows layer by layer.",
                     "zh_CN": "全连接神经元连到每个像素；局部连接或卷积神经元只连到一个小窗口，高一层的神经元"
                              "连到更大的窗口：感受野逐层增长。"},
    "claim_sharing": {"en": "A conv layer applies one kernel at every position, so its feature "
                            "maps move with the input; pooled, its answer survives a shift that "
                            "costs dense and locally-connected units, each wired to fixed pixels, "
                            "much of their accuracy.",
                      "zh_CN": "卷积层在每个位置使用同一个卷积核，所以特征图随输入一起移动；经过池化，它的答案"
                               "经得起平移，而全连接和局部连接的神经元各自连在固定的像素上，平移会让它们损失"
                               "大量准确率。"},
    "claim_learning": {"en": "The models learn from the same batches: the step axes compare what "
                             "a step teaches each, the time axes what a step costs each.",
                       "zh_CN": "各模型用同样的批次学习：步数轴比较每一步教会各模型多少，耗时轴比较每一步花费"
                                "多少。"},
    "claim_backprop": {"en": "Backpropagation gives every weight the slope of the loss. A conv "
                             "weight is used at every position, so its slope adds up the slopes "
                             "from all of them.",
                       "zh_CN": "反向传播给每个权重算出损失的斜率。卷积权重在每个位置都被使用，所以它的斜率是"
                                "所有位置斜率之和。"},
    "number_waiting": {"en": "— (waiting for the first steps)", "zh_CN": "—（等待最初几步）"},
    "number_costs": {"en": "Here: {numbers} parameters; {fewest} needs 1/{ratio} of {most}'s.",
                     "zh_CN": "这里：{numbers} 个参数；{fewest} 只需 {most} 的 1/{ratio}。"},
    "number_field": {"en": "{kind} {wired} px wired, {moving} move it",
                     "zh_CN": "{kind} 连接 {wired} 像素，影响 {moving} 像素"},
    "number_wiring": {"en": "{layer}, channel {channel}{where}: {fields}",
                      "zh_CN": "{layer}，通道 {channel}{where}：{fields}"},
    "number_sharing": {"en": "Test accuracy, unmoved → moved {shift} px (worst direction): "
                             "{accuracies} (step {step})",
                       "zh_CN": "测试准确率，未平移 → 平移 {shift} 像素（最差方向）：{accuracies}"
                                "（第 {step} 步）"},
    "number_learning": {"en": "Step {step}. Test accuracy: {accuracies}. Milliseconds a step: "
                              "{times}.",
                        "zh_CN": "第 {step} 步。测试准确率：{accuracies}。每步毫秒数：{times}。"},
    "number_gradient": {"en": "{kind} {layer} {grad} ({share})", "zh_CN": "{kind} {layer} {grad}（{share}）"},
    "number_backprop": {"en": "Gradient size, root mean square (and as a share of the weights'): "
                              "{models}",
                        "zh_CN": "梯度大小，均方根（及其占权重的比例）：{models}"},
    "no_gradient": {"en": "no gradient before the first step", "zh_CN": "第一步之前没有梯度"},
    "gradient_numbers": {"en": "{layer}: gradient {grad:.2g}, weights {weight:.2g} (root mean "
                               "square)",
                         "zh_CN": "{layer}：梯度 {grad:.2g}，权重 {weight:.2g}（均方根）"},
    # The lecture's table (viewer/gui/panels/lecture.py) and the growing fields (growth.py).
    "lecture_title": {"en": "The lecture's layer: a {side}×{side} image, {k}×{k} windows",
                      "zh_CN": "课上的一层：{side}×{side} 图像，{k}×{k} 窗口"},
    "lecture_kind": {"en": "Connection", "zh_CN": "连接方式"},
    "lecture_weights": {"en": "Weights", "zh_CN": "权重数"},
    "lecture_bytes": {"en": "float32", "zh_CN": "float32 字节"},
    "lecture_share": {"en": "vs dense", "zh_CN": "相对全连接"},
    "lecture_note": {"en": "Dense: 10⁶ pixels × 10⁶ units. Locally connected: 10⁶ units × their "
                           "own 10×10 window. Conv: one 10×10 window for all.",
                     "zh_CN": "全连接：一百万像素 × 一百万个神经元。局部连接：一百万个神经元 × 各自的 10×10 "
                              "窗口。卷积：所有神经元共用一个 10×10 窗口。"},
    "growth_title": {"en": "One spot, layer by layer", "zh_CN": "同一位置，逐层"},
    "growth_none": {"en": "no unit of a spatial layer shown", "zh_CN": "未显示空间层的神经元"},
    "growth_layer": {"en": "{layer} {h}×{w}", "zh_CN": "{layer}：{h}×{w}"},
    "growth_dense": {"en": "pixels; a dense unit: {h}×{w} from layer1 on",
                     "zh_CN": "像素；全连接神经元从 layer1 起就是 {h}×{w}"},
    "choose_folder": {"en": "Choose a folder", "zh_CN": "选择文件夹"},
    # Model columns (each kind's own label, short label and hint: its record, `kind_label`).
    "kind_regional": {"en": "Regional ({r}×{r} kernels)", "zh_CN": "区域共享（{r}×{r} 个卷积核）"},
    "kind_regional_one": {"en": "Regional: one kernel (= convolution)",
                          "zh_CN": "区域共享：一个卷积核（= 卷积）"},
    "parameters": {"en": "parameters", "zh_CN": "个参数"},
    "weights_biases": {"en": "{weights} weights + {biases} biases · {size}",
                       "zh_CN": "{weights} 个权重 + {biases} 个偏置 · {size}"},
    "counting": {"en": "counting…", "zh_CN": "正在计算…"},
    "weights": {"en": "Weights", "zh_CN": "权重"},
    "gradients": {"en": "Weight gradients", "zh_CN": "权重梯度"},
    "layer": {"en": "Layer", "zh_CN": "层"},
    "channel": {"en": "Channel", "zh_CN": "通道"},
    "hint_matrix": {"en": "rows: units, columns: inputs", "zh_CN": "行：神经元，列：输入"},
    # The sharing dial (viewer/gui/panels/sharing.py) and the title of its column.
    "sharing": {"en": "Weight sharing", "zh_CN": "权重共享"},
    "sharing_full": {"en": "1: one kernel shared by every position (convolution)",
                     "zh_CN": "1：所有位置共享一个卷积核（卷积）"},
    "sharing_none": {"en": "{n}: one kernel per position (locally connected)",
                     "zh_CN": "{n}：每个位置一个卷积核（局部连接）"},
    "sharing_regions": {"en": "regions per side {r}: {n} kernels in the first layer, one per region",
                        "zh_CN": "每边 {r} 个区域：第一层共 {n} 个卷积核，每个区域一个"},
    "similarity": {"en": "Each filter vs the mean filter (cosine)",
                   "zh_CN": "各滤波器与平均滤波器的余弦相似度"},
    "similarity_summary": {"en": "channel {channel}: mean {mean:.2f}; all channels {overall:.2f} "
                                 "(1: shared, as in a conv)",
                           "zh_CN": "通道 {channel}：平均 {mean:.2f}；全部通道 {overall:.2f}"
                                    "（1：共享，如同卷积）"},
    "similarity_none": {"en": "{layer} has no filter per position", "zh_CN": "{layer} 没有逐位置的滤波器"},
    "rebuilding": {"en": "{kind}: rebuilding with the new weight sharing…",
                   "zh_CN": "{kind}：正在按新的权重共享重建…"},
    "rebuilt": {"en": "{kind}: rebuilt with {params} parameters at step {step}; it trains from "
                      "fresh weights, the other columns go on",
                "zh_CN": "{kind}：已在第 {step} 步重建，共 {params} 个参数；它从新的权重开始训练，其他列继续"},
    "features": {"en": "Feature maps, every layer", "zh_CN": "各层特征图"},
    "loss": {"en": "Loss", "zh_CN": "损失"},
    "accuracy": {"en": "Accuracy", "zh_CN": "准确率"},
    "train": {"en": "train", "zh_CN": "训练"},
    "test": {"en": "test", "zh_CN": "测试"},
    "step": {"en": "step", "zh_CN": "步数"},
    "wall_time": {"en": "wall time (s)", "zh_CN": "耗时（秒）"},
    # Shared panels.
    "input": {"en": "Input", "zh_CN": "输入"},
    "sample": {"en": "Sample", "zh_CN": "样本"},
    "shift": {"en": "Shift ({dy}, {dx}) px; the arrow keys move it too",
              "zh_CN": "平移 ({dy}, {dx}) 像素；方向键也可移动"},
    "centre": {"en": "Centre", "zh_CN": "复位"},
    "label_is": {"en": "label: {name}", "zh_CN": "标签：{name}"},
    "prediction": {"en": "{kind}: {name} ({confidence:.0%})", "zh_CN": "{kind}：{name}（{confidence:.0%}）"},
    "no_prediction": {"en": "{kind}: —", "zh_CN": "{kind}：—"},
    "line_styles": {"en": "(solid: train, dashed: test)", "zh_CN": "（实线：训练，虚线：测试）"},
    "counts": {"en": "Parameters (log scale)", "zh_CN": "参数量（对数刻度）"},
    "vs_step": {"en": "{what} vs step", "zh_CN": "{what} 与步数"},
    "vs_time": {"en": "{what} vs wall time", "zh_CN": "{what} 与耗时"},
    # Connections: the clicked unit's receptive fields.
    "connections": {"en": "Connections of a unit", "zh_CN": "一个神经元的连接"},
    "click_a_unit": {"en": "Click a unit in any feature map: its receptive fields in every "
                           "model appear here.",
                     "zh_CN": "点击任一特征图中的一个神经元：这里显示它在各个模型中的感受野。"},
    "unit_is": {"en": "{layer}, channel {channel}{where}", "zh_CN": "{layer}，通道 {channel}{where}"},
    "at": {"en": " at ({row}, {col})", "zh_CN": "，位置 ({row}, {col})"},
    "wired_to": {"en": "wired to (theoretical receptive field)",
                 "zh_CN": "连接到的输入（理论感受野）"},
    "wired_left": {"en": "Left of each pair: the pixels it is wired to (theoretical receptive "
                         "field).",
                   "zh_CN": "每对的左图：它连接到的像素（理论感受野）。"},
    "moves_right": {"en": "Right: the pixels that move it now, |d unit / d input| (effective "
                          "receptive field).",
                    "zh_CN": "右图：此刻影响它的像素，|d 神经元 / d 输入|（有效感受野）。"},
    "moves_it": {"en": "moves it now: |d unit / d input| (effective receptive field)",
                 "zh_CN": "此刻影响它的输入：|d 神经元 / d 输入|（有效感受野）"},
    "click_the_input": {"en": "Click the input to move the unit there.",
                        "zh_CN": "点击输入图片，把神经元移到那里。"},
    "field_numbers": {"en": "{wired} px wired, {moving} px move it",
                      "zh_CN": "连接 {wired} 像素，影响 {moving} 像素"},
    "unit_off": {"en": "{wired} px wired; off for this input (ReLU 0): none moves it",
                 "zh_CN": "连接 {wired} 像素；此输入下未激活（ReLU 为 0）：没有输入影响它"},
    # Drawing.
    "your_drawing": {"en": "label: none (your drawing)", "zh_CN": "标签：无（你的画）"},
    "draw_title": {"en": "Draw your own input", "zh_CN": "画出你自己的输入"},
    "brush": {"en": "Brush", "zh_CN": "画笔"},
    "eraser": {"en": "Eraser", "zh_CN": "橡皮擦"},
    "clear": {"en": "Clear", "zh_CN": "清除"},
    "from_sample": {"en": "From sample", "zh_CN": "从样本开始"},
    "use_drawing": {"en": "Use my drawing", "zh_CN": "使用我的画"},
    "draw_button": {"en": "Draw…", "zh_CN": "手绘…"},
    "shift_accuracy": {"en": "Test accuracy vs input shift", "zh_CN": "测试准确率与输入平移"},
    "shift_px": {"en": "shift (px)", "zh_CN": "平移（像素）"},
    "shift_axes": {"en": "solid: right (+) / left (−), dashed: down (+) / up (−)\n{n} test images, step {step}",
                   "zh_CN": "实线：右 (+) / 左 (−)，虚线：下 (+) / 上 (−)\n{n} 张测试图像，第 {step} 步"},
    "equivariance": {"en": "Equivariance error per layer, 1-px shift",
                     "zh_CN": "各层等变误差（平移 1 像素）"},
    "equivariance_axis": {"en": "relative error", "zh_CN": "相对误差"},
    # Controls.
    "training": {"en": "Training", "zh_CN": "训练"},
    "dataset": {"en": "Dataset", "zh_CN": "数据集"},
    "hidden": {"en": "Hidden units", "zh_CN": "隐藏单元"},
    "channels": {"en": "Channels", "zh_CN": "通道数"},
    "kernel_size": {"en": "Kernel size", "zh_CN": "卷积核大小"},
    "stride": {"en": "Stride", "zh_CN": "步长"},
    "depth": {"en": "Depth", "zh_CN": "层数"},
    "optimizer": {"en": "Optimizer", "zh_CN": "优化器"},
    "learning_rate": {"en": "Learning rate", "zh_CN": "学习率"},
    "head": {"en": "Head", "zh_CN": "输出头"},
    "head_flatten": {"en": "flatten → dense", "zh_CN": "展平 → 全连接"},
    "head_global-pool": {"en": "global average pool → dense", "zh_CN": "全局平均池化 → 全连接"},
    "batch_size": {"en": "Batch size", "zh_CN": "批大小"},
    "redraw_every": {"en": "Steps between redraws", "zh_CN": "重绘间隔步数"},
    "start": {"en": "Start", "zh_CN": "开始"},
    "pause": {"en": "Pause", "zh_CN": "暂停"},
    "single_step": {"en": "Step", "zh_CN": "单步"},
    "reset": {"en": "Reset", "zh_CN": "重置"},
    "show_gradients": {"en": "Show gradients instead of weights", "zh_CN": "显示梯度而非权重"},
    "ds_digits": {"en": "digits (8×8, bundled)", "zh_CN": "手写数字（8×8，内置）"},
    "ds_mnist-5k": {"en": "MNIST 5k (28×28)", "zh_CN": "MNIST 五千张（28×28）"},
    "ds_shifted": {"en": "shifted glyphs", "zh_CN": "平移字形"},
    "ds_aligned": {"en": "aligned glyph pairs", "zh_CN": "对齐字形对"},
    "ds_mnist": {"en": "MNIST (downloaded)", "zh_CN": "MNIST（已下载）"},
    "ds_fashion-mnist": {"en": "Fashion-MNIST (downloaded)", "zh_CN": "Fashion-MNIST（已下载）"},
    # Status bar and dialogs.
    "preparing": {"en": "Loading {dataset} and compiling the models…",
                  "zh_CN": "正在加载 {dataset} 并编译各个模型…"},
    "compile_long": {"en": "{kind}: {notice} Training starts when it is compiled.",
                     "zh_CN": "{kind}：{notice}（正在编译）"},
    "compiling_for": {"en": "Compiling for {seconds} s.", "zh_CN": "已编译 {seconds} 秒。"},
    "running": {"en": "Training — step {step}", "zh_CN": "训练中 — 第 {step} 步"},
    "paused": {"en": "Paused at step {step}", "zh_CN": "已暂停于第 {step} 步"},
    "still_compiling": {"en": "{text} · still compiling: {kinds}; each starts when ready",
                        "zh_CN": "{text} · 正在编译：{kinds}；编译后开始训练"},
    "not_number": {"en": "{field}: “{text}” is not a number; nothing was changed.",
                   "zh_CN": "{field}：“{text}”不是数字；未作任何更改。"},
    "not_int": {"en": "{field}: “{text}” must be a whole number from {low} to {high}; nothing was changed.",
                "zh_CN": "{field}：“{text}”必须是 {low} 到 {high} 之间的整数；未作任何更改。"},
    "not_rate": {"en": "{field}: “{text}” must be a number above 0 and at most {high}; nothing was "
                       "changed.",
                 "zh_CN": "{field}：“{text}”必须是大于 0 且不超过 {high} 的数；未作任何更改。"},
    "failed": {"en": "Training stopped: {error}", "zh_CN": "训练已停止：{error}"},
    "non_finite": {"en": "{kind}: training diverged at step {step} ({reason}); paused with the "
                         "weights of step {good}, the last that passed the guard. Lower the "
                         "learning rate and press Start to continue from them, or Reset.",
                   "zh_CN": "{kind}：训练在第 {step} 步停止（{reason}）；已暂停并保留第 {good} 步的权重"
                            "（最后一次正常的权重）。请降低学习率后按“开始”，或按“重置”。"},
    "saved": {"en": "Saved {path}", "zh_CN": "已保存 {path}"},
    "saved_at": {"en": "Saved {path} (step {step})", "zh_CN": "已保存 {path}（步数 {step}）"},
    "no_session": {"en": "no session is running", "zh_CN": "没有正在运行的会话"},
    "not_written": {"en": "Could not write {path}: {error}", "zh_CN": "无法写入 {path}：{error}"},
    "loaded": {"en": "Loaded {path}", "zh_CN": "已加载 {path}"},
    "error": {"en": "Error", "zh_CN": "错误"},
}

_state = {"language": "en", "shown_as": {}}


def show_column_as(column: str, kind: str | None = None) -> None:
    """Names column ``column`` as kind ``kind`` in every panel (None: as its own kind again).

    The sharing dial names its column by the kind's regional form (``Regional``) while it
    shares kernels by region, so every panel that names the columns follows it.

    Raises:
        ValueError: ``kind`` is no registered kind (`jaxconv.kinds.names`).
    """
    if kind is None:
        _state["shown_as"].pop(column, None)
        return
    _state["shown_as"][column] = kinds.get(kind, fn="show_column_as").name


def kind_label(column: str, *, short: bool = False) -> str:
    """Column (or kind) ``column``'s label in the current language, from its kind's record
    (`jaxconv.kinds.Kind.label`); a column shown as another kind (`show_column_as`) has that
    kind's label.

    Example:
        >>> kind_label("local"), kind_label("conv", short=True)
        ('Locally connected', 'Conv')
    """
    shown = _state["shown_as"].get(column, column)
    return kinds.get(shown).label(_state["language"], short=short)


def kind_hint(kind: str) -> str:
    """What a tile of a layer of kind ``kind``'s weight mosaic shows, in the current language
    (the record's ``weights_hint``; English when it has none in that language)."""
    hint = kinds.get(kind).weights_hint
    return hint.get(_state["language"]) or hint.get("en", "")


def set_language(language: str) -> None:
    """Makes `tr` answer in ``language`` (a key of `LANGUAGES`).

    Raises:
        ValueError: an unknown language code.
    """
    if language not in LANGUAGES:
        raise ValueError(
            f"set_language: `language` must be one of {', '.join(LANGUAGES)}, got {language!r}."
        )
    _state["language"] = language


def current_language() -> str:
    """The language code `tr` answers in."""
    return _state["language"]


def tr(key: str, **fields) -> str:
    """The label ``key`` in the current language, with ``fields`` filled in.

    Example:
        >>> tr("running", step=3)
        'Training — step 3'
    """
    return TEXT[key][_state["language"]].format(**fields)
