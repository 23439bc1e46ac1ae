"""``[attachments]`` in config.toml: defaults, values, and what is refused at start-up."""

from __future__ import annotations

from pathlib import Path

import pytest

from pgs_hub.hub.attachment_limits import AttachmentLimits
from pgs_hub.hub.errors import ConfigError
from pgs_hub.hub.home import CONFIG_FILE, load_config, write_home


def config_with(tmp_path: Path, section: str) -> AttachmentLimits:
    home = tmp_path / "home"
    write_home(home, port=8443)
    with (home / CONFIG_FILE).open("a", encoding="utf-8") as extra:
        extra.write(f"\n[attachments]\n{section}\n")
    return load_config(home).attachments


def test_defaults_and_values(tmp_path: Path) -> None:
    assert config_with(tmp_path, "") == AttachmentLimits()
    limits = config_with(tmp_path / "b", "max_file_bytes = 1000\nquota_bytes = 0")
    assert (limits.max_file_bytes, limits.quota_bytes) == (1000, 0)
    assert limits.max_message_bytes == AttachmentLimits().max_message_bytes
    assert AttachmentLimits().parts_in_flight == 2
    assert config_with(tmp_path / "c", "parts_in_flight = 1").parts_in_flight == 1


@pytest.mark.parametrize(
    ("section", "reason"),
    [
        ("max_file_bytes = 0", "max_file_bytes in config.toml must be between 1"),
        ("max_part_bytes = 100", "max_part_bytes in config.toml must be between 1024"),
        ('quota_bytes = "1 GB"', "quota_bytes in config.toml must be between"),
        ("pending_seconds = true", "pending_seconds in config.toml must be between"),
        ("parts_in_flight = 3", "parts_in_flight in config.toml must be between 1"),
        ("max_attachment = 5", "unknown settings: max_attachment"),
    ],
)
def test_bad_settings_are_refused_at_start_up(tmp_path: Path, section: str, reason: str) -> None:
    with pytest.raises(ConfigError, match=reason):
        config_with(tmp_path, section)
