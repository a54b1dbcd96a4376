"""What the doctor found: one :class:`Check` per line, gathered in a :class:`Report` that shows
itself as a table (✓ works, ✗ a problem and what to do, – not checked or not offered).

The report is made to be screenshotted and sent to whoever runs the workshop: it says
which files and variables were read and what the gateway answered, and never the key.
"""
from __future__ import annotations

import html
from dataclasses import dataclass, field

MARKS = {True: "✓", False: "✗", None: "–"}
_COLOURS = {True: "var(--jp-success-color1, #2e7d32)", False: "var(--jp-error-color1, #c62828)",
            None: "var(--jp-ui-font-color2, #777)"}
_GREY = "color: var(--jp-ui-font-color2, #666)"


@dataclass(frozen=True, slots=True)
class Check:
    """One line: what was checked, whether it works (None: not checked, or not offered), what was
    found, what to do about it, and how long it took."""

    name: str
    ok: bool | None
    found: str
    todo: str = ""
    seconds: float | None = None

    @property
    def mark(self) -> str:
        return MARKS[self.ok]


@dataclass
class Report:
    """Every check of one doctor run, in order, and how long the run took.

    Example::

        report = jupyter_llm.core.doctor.run()
        report.ok                 # False when any line is ✗
        [c.name for c in report.problems]
    """

    checks: list[Check] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def problems(self) -> list[Check]:
        return [c for c in self.checks if c.ok is False]

    @property
    def ok(self) -> bool:
        return not self.problems

    def __getitem__(self, name: str) -> Check:
        """The check called ``name`` (``report["key"]``)."""
        for check in self.checks:
            if check.name == name:
                return check
        raise KeyError(f"no check named {name!r}; checks: {', '.join(c.name for c in self.checks)}")

    def summary(self) -> str:
        problems = len(self.problems)
        verdict = "no problems" if not problems else f"{problems} problem{'s' if problems > 1 else ''}"
        return f"jupyter-llm doctor: {len(self.checks)} checks in {self.seconds:.1f} s, {verdict}"

    def __str__(self) -> str:
        width = max((len(c.name) for c in self.checks), default=0)
        lines = [self.summary()]
        for check in self.checks:
            took = f"  ({check.seconds:.2f} s)" if check.seconds is not None else ""
            found = check.found.replace("\n", "\n" + " " * (width + 4))
            lines.append(f"{check.mark} {check.name:<{width}}  {found}{took}")
            if check.todo:
                lines.append(f"  {'':<{width}}  → {check.todo}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<Report: {self.summary()}>"

    def _repr_mimebundle_(self, include=None, exclude=None):
        rows = []
        for check in self.checks:
            found = html.escape(check.found).replace("\n", "<br>")
            todo = f'<div style="{_GREY}">→ {html.escape(check.todo)}</div>' if check.todo else ""
            took = f"{check.seconds:.2f} s" if check.seconds is not None else ""
            rows.append(
                f'<tr><td style="color: {_COLOURS[check.ok]}; font-weight: bold">{check.mark}</td>'
                f"<td style=\"text-align: left; white-space: nowrap\">{html.escape(check.name)}</td>"
                f'<td style="text-align: left">{found}{todo}</td>'
                f'<td style="{_GREY}; white-space: nowrap">{took}</td></tr>')
        table = (f'<div class="jllm-doctor"><div style="{_GREY}">{html.escape(self.summary())}</div>'
                 f"<table><tbody>{''.join(rows)}</tbody></table></div>")
        return {"text/plain": str(self), "text/html": table}
