"""Uploaded listing photos are served from MEDIA_ROOT, and nothing outside it."""

from django.conf import settings


def test_media_files_are_served(client):
    """A file under MEDIA_ROOT is served at /media/…."""
    folder = settings.MEDIA_ROOT / "listings" / "1"
    folder.mkdir(parents=True)
    (folder / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0fake-jpeg")
    response = client.get("/media/listings/1/photo.jpg")
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"\xff\xd8")


def test_no_path_traversal(client):
    """Paths that climb out of MEDIA_ROOT are not served."""
    settings.MEDIA_ROOT.mkdir(parents=True, exist_ok=True)
    for path in ("/media/../pyproject.toml", "/media/%2e%2e/pyproject.toml"):
        assert client.get(path).status_code in (400, 404)
