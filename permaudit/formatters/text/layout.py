"""Text laid out for a terminal width: word wrapping that never breaks a token, and tables.

A token (a rule id, a permission, package or component name, a path) is never broken:
text wraps only at spaces, and a token longer than the width stands alone on its line.
``table`` fits a table into the width by wrapping cells; when even the narrowest table is
wider than the terminal it lets one column hang (argparse-style: a long cell on its own
line, the rest of the row under it) or prints one block per row. ``matrix`` (rows x apps)
falls back to one block per row listing which apps share each value, so a comparison of
hundreds of apps stays readable. The result never has a line wider than ``width`` except a
line holding one unbreakable token.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence

#: Columns when the output is not a terminal and ``COLUMNS`` is not set.
DEFAULT_WIDTH = 80
#: The narrowest and widest layouts permaudit makes, whatever ``COLUMNS`` says.
MIN_WIDTH = 40
MAX_WIDTH = 1000
#: Continuation lines of a wrapped cell paragraph are indented by this much.
INDENT = "  "
ANSI = re.compile(r"\x1b\[[0-9;]*m")

Style = Callable[[str], str]


class Cell:
    """A cell's text (paragraphs separated by newlines) and a style for its first paragraph."""

    __slots__ = ("style", "text")

    def __init__(self, text: object, style: Style | None = None) -> None:
        self.text = "" if text is None else str(text)
        self.style = style


CellLike = Cell | str | int | None


def cell(value: CellLike) -> Cell:
    """``value`` as a ``Cell`` (``None`` is empty)."""
    return value if isinstance(value, Cell) else Cell(value)


def clamp_width(width: int) -> int:
    """``width`` bounded to what permaudit lays out (``MIN_WIDTH`` .. ``MAX_WIDTH``)."""
    return max(MIN_WIDTH, min(width, MAX_WIDTH))


def text_width(text: str) -> int:
    """Columns ``text`` takes on a terminal: ANSI codes take none, wide characters two."""
    text = ANSI.sub("", text)
    if text.isascii():
        return len(text)
    total = 0
    for char in text:
        if unicodedata.combining(char):
            continue
        total += 2 if unicodedata.east_asian_width(char) in "WF" else 1
    return total


def pad(text: str, width: int, *, right: bool = False) -> str:
    """``text`` padded with spaces to ``width`` visible columns."""
    fill = " " * max(0, width - text_width(text))
    return fill + text if right else text + fill


def wrap(text: str, width: int, *, indent: str = "", subsequent: str | None = None) -> list[str]:
    """``text`` wrapped at spaces to ``width`` columns (wide characters count two); tokens are
    never broken (a longer one overflows its own line); runs of spaces inside a line stay."""
    later = indent + INDENT if subsequent is None else subsequent
    pieces = [p for p in _SPACES.split(text.strip(" ")) if p]
    lines: list[str] = []
    line, gap = indent, ""
    for piece in pieces:
        if piece.startswith(" "):
            gap = piece
            continue
        if line.strip() and text_width(line + gap + piece) > width:
            lines.append(line)
            line = later + piece
        else:
            line = line + gap + piece if line.strip() else line + piece
        gap = ""
    if line.strip() or not lines:
        lines.append(line.rstrip() if not line.strip() else line)
    return lines


_SPACES = re.compile(r"( +)")


def _paragraphs(text: str) -> list[str]:
    return text.split("\n") if text else [""]


def _longest_token(text: str) -> int:
    """The width a column needs so that no token of ``text`` overflows it."""
    best = 0
    for paragraph in _paragraphs(text):
        tokens = paragraph.split()
        for position, token in enumerate(tokens):
            # Tokens after the first may start a continuation line, indented.
            best = max(best, text_width(token) + (len(INDENT) if position else 0))
    return best


def _natural(text: str) -> int:
    return max(text_width(p) for p in _paragraphs(text))


def _lines(value: Cell, width: int) -> list[str]:
    lines: list[str] = []
    for index, paragraph in enumerate(_paragraphs(value.text)):
        wrapped = wrap(paragraph, width)
        if index == 0 and value.style is not None:
            wrapped = [value.style(line) for line in wrapped]
        lines.extend(wrapped)
    return lines


def _distribute(minimum: list[int], natural: list[int], room: int) -> list[int] | None:
    """Column widths summing to at most ``room``: every column at least its minimum, the
    space left shared in proportion to how much each column would still like."""
    if sum(minimum) > room:
        return None
    if sum(natural) <= room:
        return list(natural)
    widths = list(minimum)
    spare = room - sum(minimum)
    wants = [n - m for n, m in zip(natural, minimum, strict=True)]
    total = sum(wants)
    for index, want in enumerate(wants):
        add = spare * want // total if total else 0
        widths[index] += add
    left = room - sum(widths)
    for index in sorted(range(len(wants)), key=lambda i: -(natural[i] - widths[i])):
        if left <= 0:
            break
        if widths[index] < natural[index]:
            widths[index] += 1
            left -= 1
    return widths


def _overhead(columns: int, *, grid: bool) -> int:
    return 3 * (columns - 1) + 4 if grid else 2 * (columns - 1)


def table(
    headers: Sequence[str],
    rows: Sequence[Sequence[CellLike]],
    width: int,
    *,
    grid: bool = False,
    right: Sequence[int] = (),
    hang: int | None = None,
    keys: Sequence[int] = (0,),
    blocks: bool = True,
) -> list[str] | None:
    """``rows`` under ``headers`` as lines no wider than ``width`` (see the module docstring).

    ``grid`` draws box lines between cells and rows; ``right`` aligns those columns right;
    ``hang`` is the column whose over-long cells may stand on their own line. When nothing
    fits: one block per row (``keys`` cells on its first line, the others as ``header:
    value`` under it), or ``None`` when ``blocks`` is false.
    """
    cells = [[cell(v) for v in row] for row in rows]
    count = len(headers)
    room = width - _overhead(count, grid=grid)
    columns = [[Cell(h), *(row[i] for row in cells)] for i, h in enumerate(headers)]
    natural = [max(_natural(c.text) for c in column) for column in columns]
    minimum = [max(_longest_token(c.text) for c in column) for column in columns]
    widths = _distribute(minimum, natural, room)
    if widths is None and hang is not None and not grid:
        floor = max(_longest_token(headers[hang]), min(natural[hang], 20))
        relaxed = [floor if i == hang else m for i, m in enumerate(minimum)]
        widths = _distribute(relaxed, natural, room)
    if widths is None:
        return block_rows(headers, cells, width, keys=keys) if blocks else None
    if grid:
        return _grid(headers, cells, widths, right)
    return _simple(headers, cells, widths, right, hang)


def _row_lines(row: Sequence[Cell], widths: Sequence[int]) -> list[list[str]]:
    return [_lines(value, w) for value, w in zip(row, widths, strict=True)]


def _joined(parts: Sequence[list[str]], widths: Sequence[int], right: Sequence[int],
            sep: str, edge: str = "") -> list[str]:
    height = max(len(p) for p in parts)
    out = []
    for line in range(height):
        texts = [
            pad(p[line] if line < len(p) else "", w, right=i in right)
            for i, (p, w) in enumerate(zip(parts, widths, strict=True))
        ]
        out.append(edge + sep.join(texts) + edge[::-1] if edge else sep.join(texts).rstrip())
    return out


def _simple(headers: Sequence[str], cells: Sequence[Sequence[Cell]], widths: list[int],
            right: Sequence[int], hang: int | None) -> list[str]:
    out = _joined(_row_lines([Cell(h) for h in headers], widths), widths, right, "  ")
    out.append("  ".join("-" * w for w in widths))
    offsets = [sum(widths[:i]) + 2 * i for i in range(len(widths))]
    for row in cells:
        if hang is not None and _natural(row[hang].text) > widths[hang]:
            out.append(" " * offsets[hang] + row[hang].text.replace("\n", " "))
            row = [Cell("") if i == hang else v for i, v in enumerate(row)]
        out.extend(_joined(_row_lines(row, widths), widths, right, "  "))
    return out


def _grid(headers: Sequence[str], cells: Sequence[Sequence[Cell]], widths: list[int],
          right: Sequence[int]) -> list[str]:
    def rule(left: str, middle: str, end: str) -> str:
        return left + middle.join("─" * (w + 2) for w in widths) + end

    out = [rule("┌", "┬", "┐")]
    out.extend(_joined(_row_lines([Cell(h) for h in headers], widths), widths, right,
                       " │ ", "│ "))
    for row in cells:
        out.append(rule("├", "┼", "┤"))
        out.extend(_joined(_row_lines(row, widths), widths, right, " │ ", "│ "))
    out.append(rule("└", "┴", "┘"))
    return out


def block_rows(headers: Sequence[str], cells: Sequence[Sequence[Cell]], width: int, *,
               keys: Sequence[int] = (0,)) -> list[str]:
    """One block per row: its ``keys`` cells on one line, then ``header: value`` indented."""
    out: list[str] = []
    # Key cells but the last are padded to a common width, so the rows' keys line up.
    key_widths = {i: max((text_width(_flat(row[i])) for row in cells), default=0)
                  for i in keys[:-1]}
    for row in cells:
        parts = [_flat(row[i]) for i in keys]
        first = _pack(
            [(pad(text, key_widths[i]) if i in key_widths else text)
             for i, text in zip(keys, parts, strict=True) if text],
            width,
        )
        style = row[keys[0]].style if keys and row[keys[0]].text else None
        if style is not None:
            first[0] = first[0].replace(parts[0], style(parts[0]), 1)
        out.extend(first)
        details = "; ".join(
            f"{headers[i]}: {_flat(row[i])}"
            for i in range(len(headers))
            if i not in keys and row[i].text
        )
        if details:
            out.extend(wrap(details, width, indent="    ", subsequent="      "))
    return out


def _pack(parts: Sequence[str], width: int) -> list[str]:
    """``parts`` two spaces apart, a new (indented) line before a part that does not fit;
    a part is broken, between words, only when it is wider than a line by itself."""
    lines: list[str] = []
    line = ""
    for part in parts:
        if line.strip():
            candidate = f"{line}  {part}"
            if text_width(candidate.rstrip()) <= width:
                line = candidate
                continue
            lines.append(line.rstrip())
            line = "    "
        start = line  # "" on the first line, "    " on continuation lines
        if text_width((start + part).rstrip()) <= width:
            line = start + part
            continue
        wrapped = wrap(part.strip(), width, indent=start, subsequent=start + "  ")
        lines.extend(wrapped[:-1])
        line = wrapped[-1]
    if line.strip():
        lines.append(line.rstrip())
    return lines or [""]


def _flat(value: Cell) -> str:
    return " ".join(p for p in _paragraphs(value.text) if p)


def matrix(
    corner: Sequence[str],
    columns: Sequence[str],
    rows: Sequence[tuple[Sequence[CellLike], Sequence[CellLike]]],
    width: int,
    *,
    grid: bool = False,
    names: Sequence[str] | None = None,
) -> list[str]:
    """Rows of leading cells (``corner`` headers) and one cell per app (``columns``).

    As a table when it fits ``width``; else one block per row: its leading cells on one
    line, then each distinct value with the apps (``names``, default the column headers
    on one line) that have it.
    """
    headers = [*corner, *columns]
    lines = table(headers, [[*lead, *values] for lead, values in rows], width, grid=grid,
                  blocks=False)
    if lines is not None:
        return lines
    labels = list(names) if names is not None else [" ".join(c.split()) for c in columns]
    out: list[str] = []
    for lead, values in rows:
        lead_cells = [cell(v) for v in lead]
        texts = [_flat(c) for c in lead_cells if c.text]
        title = texts[0] + (f" ({', '.join(texts[1:])})" if len(texts) > 1 else "") if texts else ""
        head = wrap(title, width, subsequent="    ")
        if lead_cells and lead_cells[0].style is not None:
            head = [lead_cells[0].style(line) for line in head]
        out.extend(head)
        value_cells = [cell(v) for v in values]
        if not any(v.text for v in value_cells):  # a heading row
            continue
        groups: dict[str, list[int]] = {}
        styles: dict[str, Style | None] = {}
        for index, value in enumerate(value_cells):
            groups.setdefault(value.text, []).append(index)
            styles.setdefault(value.text, value.style)
        for text, members in groups.items():
            who = "all apps" if len(members) == len(labels) > 2 else ", ".join(
                labels[i] for i in members
            )
            paragraphs = _paragraphs(text)
            first = wrap(f"{who}: {paragraphs[0]}", width, indent="  ", subsequent="      ")
            style = styles[text]
            if style is not None:
                first = [style(line) for line in first]
            out.extend(first)
            for paragraph in paragraphs[1:]:
                out.extend(wrap(paragraph, width, indent="      ", subsequent="        "))
    return out


def indented(text: str, *, indent: int, width: int = DEFAULT_WIDTH) -> str:
    """``text`` wrapped to ``width`` columns as one string, every line indented by
    ``indent`` spaces (continuation lines two more)."""
    pad = " " * indent
    return "\n".join(wrap(text, width, indent=pad, subsequent=pad + "  "))
