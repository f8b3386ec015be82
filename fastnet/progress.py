"""What a model shows people: training progress on stderr (a live bar on a terminal, one line
per epoch otherwise) and its summary."""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

_REFRESH_SECONDS = 0.1
_WIDTH = 24


def format_logs(logs: dict[str, float]) -> str:
    return " - ".join(f"{key}: {value:.4g}" for key, value in logs.items())


class Progress:
    """``verbose``: 0 silent, 1 bar (epoch lines when ``stream`` is not a terminal), 2 epoch lines.

    Epochs are shown counted from 1 ("Epoch 1/10"), as people count them; History, callbacks and
    ``EarlyStopping.stopped_epoch`` index them from 0, as Python does (Keras' convention).
    """

    def __init__(self, verbose: int, epochs: int, n_batches: int, stream: TextIO | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.epochs = epochs
        self.n_batches = n_batches
        isatty = getattr(self.stream, "isatty", None)
        self.live = verbose == 1 and bool(isatty and isatty())
        self.enabled = verbose > 0
        self._last_draw = 0.0
        self._epoch_start = time.perf_counter()
        self._mid_line = False  # a live bar is drawn and its line not ended

    def epoch_begin(self, epoch: int) -> None:
        self._epoch_start = time.perf_counter()
        self._last_draw = 0.0

    def batch_end(self, epoch: int, done: int, loss: float) -> None:
        """Redraw the bar at most every 0.1 s (and on the last batch)."""
        if not self.live:
            return
        now = time.perf_counter()
        if done < self.n_batches and now - self._last_draw < _REFRESH_SECONDS:
            return
        self._last_draw = now
        filled = _WIDTH * done // self.n_batches
        bar = "=" * filled + (">" if filled < _WIDTH else "") + "." * max(_WIDTH - filled - 1, 0)
        self.stream.write(
            f"\rEpoch {epoch + 1}/{self.epochs} [{bar}] {done}/{self.n_batches} - loss: {loss:.4g} "
            f"- {now - self._epoch_start:.1f}s\x1b[K"  # clears what a longer earlier line left
        )
        self.stream.flush()
        self._mid_line = True

    def epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        if not self.enabled:
            return
        seconds = time.perf_counter() - self._epoch_start
        line = f"Epoch {epoch + 1}/{self.epochs} - {seconds:.2f}s - {format_logs(logs)}"
        self.stream.write(f"\r{line}\x1b[K\n" if self.live else f"{line}\n")
        self.stream.flush()
        self._mid_line = False

    def close(self) -> None:
        """End a bar's line when fit stops inside an epoch (Ctrl-C, divergence), so the shell prompt
        or the traceback starts on a line of its own."""
        if self._mid_line:
            self.stream.write("\n")
            self.stream.flush()
            self._mid_line = False


def summary_text(model: Any) -> str:
    """A table of ``model``'s layers (sizes, activation, L2, dropout, parameters), then its size, loss
    and optimiser."""
    rows = [("layer", "shape", "activation", "l2", "dropout", "parameters")]
    total = 0
    for i, layer in enumerate(model.layers):
        count = layer.n_in * layer.n_out + layer.n_out
        total += count
        rows.append((f"Dense {i}", f"{layer.n_in} -> {layer.n_out}", layer.activation, f"{layer.l2:g}",
                     f"{layer.dropout:g}", f"{count:,}"))
    widths = [max(len(row[c]) for row in rows) for c in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "-" * len(lines[0]))
    lines.append(f"{total:,} parameters, {model.dtype.name} ({total * model.dtype.itemsize:,} bytes)")
    lines.append(f"loss: {model.loss}, metric: {model.metric}, optimizer: {model.optimizer!r}")
    return "\n".join(lines)
