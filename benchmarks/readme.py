"""Put the latest run's tables into README.md, between two marker comments."""

from __future__ import annotations

from pathlib import Path

__all__ = ["update"]

README = Path(__file__).resolve().parent / "README.md"
START = "<!-- latest-results:start -->"
END = "<!-- latest-results:end -->"


def update(markdown: str, source: str) -> None:
    text = README.read_text()
    if START not in text or END not in text:
        print(f"README.md has no {START} ... {END} block; not updated")
        return
    # Demote the report's headings by two levels so they nest under the README's.
    lines = markdown.splitlines()
    body = "\n".join("##" + line if line.startswith("#") else line for line in lines)
    block = f"{START}\n_From `{source}`._\n\n{body}\n{END}"
    head, rest = text.split(START, 1)
    README.write_text(head + block + rest.split(END, 1)[1])
