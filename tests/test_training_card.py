"""Rewriting the model card keeps its hand-written qualification section."""

from __future__ import annotations

from pathlib import Path

from station.training.card import _with_kept_section

NEW = "# Card\n\n## Measured quality\nnew tables\n\n## Limits\nsynthetic only\n"


def test_the_qualification_section_survives_a_rewrite(tmp_path: Path) -> None:
    old = tmp_path / "README.md"
    old.write_text(
        "# Card\n\n## Measured quality\nold tables\n\n"
        "## Qualification against the previous model\nverdict better, by hand\n\n"
        "## Limits\nold limits\n"
    )
    text = _with_kept_section(NEW, old)
    assert text == (
        "# Card\n\n## Measured quality\nnew tables\n\n"
        "## Qualification against the previous model\nverdict better, by hand\n\n"
        "## Limits\nsynthetic only\n"
    )


def test_a_card_without_one_is_written_as_measured(tmp_path: Path) -> None:
    assert _with_kept_section(NEW, tmp_path / "missing.md") == NEW
    (tmp_path / "plain.md").write_text("# Card\n\n## Limits\n")
    assert _with_kept_section(NEW, tmp_path / "plain.md") == NEW
