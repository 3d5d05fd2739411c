"""BACKUP_TARGET and BACKUP_S3_* settings: accepted forms and one clear line when wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from meatlizard.backups.target import target_from_settings
from meatlizard.core.settings import SettingsError, load_settings
from meatlizard.core.storage import LocalStorage

S3 = {"s3_access_key_id": "k", "s3_secret_access_key": "s"}


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"backup_target": "s3://No_Such"}, "setting BACKUP_TARGET: 's3://No_Such': 'No_Such' is"),
        ({"backup_target": "relative"}, "setting BACKUP_TARGET: 'relative' is neither"),
        (
            {"backup_target": "s3://data-bucket/b", "s3_bucket_name": "data-bucket", **S3},
            "setting BACKUP_TARGET: 's3://data-bucket/b' is the data bucket",
        ),
        (
            {"backup_target": "s3://backups", "backup_s3_access_key_id": "k"},
            "setting BACKUP_S3_ACCESS_KEY_ID: set it together with",
        ),
        ({"backup_s3_access_key_id": "k"}, "setting BACKUP_S3_ACCESS_KEY_ID: only used with"),
    ],
)
def test_wrong_backup_settings_are_named(
    values: dict[str, object], message: str, tmp_path: Path
) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(data_dir=tmp_path, **values)
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)


def test_the_same_bucket_on_another_endpoint_is_a_separate_target(tmp_path: Path) -> None:
    settings = load_settings(
        data_dir=tmp_path,
        s3_bucket_name="data",
        **S3,
        backup_target="s3://data/backups",
        backup_s3_endpoint_url="https://elsewhere.example",
    )
    target = target_from_settings(settings, LocalStorage(tmp_path / "storage"))
    assert (target.prefix, target.separate) == ("backups/", True)
    assert target.blob_key("ab" * 32) == "backups/objects/ab/" + "ab" * 32


def test_unset_target_keeps_backups_in_the_data_storage(tmp_path: Path) -> None:
    data = LocalStorage(tmp_path / "storage")
    target = target_from_settings(load_settings(data_dir=tmp_path), data)
    assert (target.storage, target.prefix, target.separate) == (data, "backups/", False)
