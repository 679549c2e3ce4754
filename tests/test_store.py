"""Template store: round trip, model binding, --replace, no raw signals, corrupt files."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import zipfile

import numpy as np
import pytest

from gaitcnn.store import TemplateStore, TemplateStoreError

DIM = 16
FINGERPRINT = "f" * 64


def _embeddings(n=5, seed=0):
    return np.random.default_rng(seed).normal(size=(n, DIM))


@pytest.fixture
def saved_store(tmp_path):
    store = TemplateStore.open(
        tmp_path / "users.gaitstore", model_fingerprint=FINGERPRINT, embedding_dim=DIM, create=True
    )
    store.add("alice", _embeddings(5, 0))
    store.add("bob", _embeddings(7, 1), kind="set")
    store.save()
    return store.path


class TestContractTemplateStore:
    def test_numpy_only(self):
        code = "import sys, gaitcnn.store; sys.exit('tensorflow' in sys.modules)"
        assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0

    def test_round_trip(self, saved_store):
        store = TemplateStore.open(saved_store, model_fingerprint=FINGERPRINT)
        assert store.users == ("alice", "bob") and store.embedding_dim == DIM
        assert store.template("alice").shape == (1, DIM)
        assert store.template("bob").shape == (7, DIM)
        np.testing.assert_allclose(np.linalg.norm(store.template("bob"), axis=1), 1, atol=1e-6)
        info = store.info("bob")
        assert (info["kind"], info["n_windows"]) == ("set", 7)
        assert info["created_utc"].endswith("+00:00")

    def test_file_holds_only_embeddings_and_metadata(self, saved_store):
        with zipfile.ZipFile(saved_store) as archive:
            names = archive.namelist()
            metadata = json.loads(archive.read("metadata.json"))
            arrays = [
                np.load(archive.open(n), allow_pickle=False) for n in names if n.endswith(".npy")
            ]
        assert set(names) == {"metadata.json", "templates/0000.npy", "templates/0001.npy"}
        assert metadata["model_fingerprint"] == FINGERPRINT
        for array in arrays:  # (n, dim) embeddings: no (n, width, channels) window, no signal
            assert array.ndim == 2 and array.shape[1] == DIM and array.dtype == np.float32

    def test_store_is_private_to_its_owner(self, saved_store):
        assert stat.S_IMODE(os.stat(saved_store).st_mode) & 0o077 == 0

    def test_raw_windows_are_refused(self):
        store = TemplateStore(FINGERPRINT, DIM)
        with pytest.raises(ValueError, match="not signals"):
            store.add("alice", np.zeros((3, 64, 8)))
        with pytest.raises(ValueError, match="not signals"):
            store.add("alice", np.zeros((0, DIM)))
        assert len(store) == 0

    @pytest.mark.parametrize("user_id", ["", " alice", 7, None])
    def test_bad_user_ids(self, user_id):
        with pytest.raises(ValueError, match="user_id"):
            TemplateStore(FINGERPRINT, DIM).add(user_id, _embeddings())

    def test_missing_store(self, tmp_path):
        with pytest.raises(FileNotFoundError, match="no template store"):
            TemplateStore.open(tmp_path / "none", model_fingerprint=FINGERPRINT)


class TestTemplateStoreBehaviour:
    def test_existing_user_needs_replace(self, saved_store):
        store = TemplateStore.open(saved_store, model_fingerprint=FINGERPRINT)
        before = store.template("alice")
        with pytest.raises(TemplateStoreError, match=r"'alice' is already enrolled.*--replace"):
            store.add("alice", _embeddings(3, 9))
        np.testing.assert_array_equal(store.template("alice"), before)
        store.add("alice", _embeddings(3, 9), replace=True)
        assert store.info("alice")["n_windows"] == 3

    def test_other_model_is_refused_in_one_line(self, saved_store):
        with pytest.raises(TemplateStoreError) as error:
            TemplateStore.open(saved_store, model_fingerprint="0" * 64)
        message = str(error.value)
        assert "\n" not in message and str(saved_store) in message
        assert "another model" in message

    def test_other_embedding_length_is_refused(self, saved_store):
        with pytest.raises(TemplateStoreError, match="length 16"):
            TemplateStore.open(saved_store, model_fingerprint=FINGERPRINT, embedding_dim=32)

    def test_unknown_user(self, saved_store):
        store = TemplateStore.open(saved_store, model_fingerprint=FINGERPRINT)
        with pytest.raises(TemplateStoreError, match="'carol' is not enrolled"):
            store.template("carol")

    def test_remove_and_save_again(self, saved_store):
        store = TemplateStore.open(saved_store, model_fingerprint=FINGERPRINT)
        store.remove("alice")
        store.save()
        assert TemplateStore.open(saved_store, model_fingerprint=FINGERPRINT).users == ("bob",)

    def test_save_never_replaces_another_file_unasked(self, saved_store, tmp_path):
        other = tmp_path / "notes.txt"
        other.write_text("mine")
        store = TemplateStore.open(saved_store, model_fingerprint=FINGERPRINT)
        with pytest.raises(FileExistsError, match="overwrite"):
            store.save(other)
        assert other.read_text() == "mine"

    @pytest.mark.parametrize(
        "corrupt",
        [
            lambda p: p.write_bytes(b"not a zip at all"),
            lambda p: p.write_bytes(p.read_bytes()[:100]),  # truncated
            lambda p: _rewrite(p, {"metadata.json": b"{broken"}),
            lambda p: _rewrite(p, {"metadata.json": b'{"format": "other"}'}),
            lambda p: _rewrite(p, {"templates/0000.npy": b"\x93NUMPY garbage"}),
            lambda p: _rewrite(p, {"templates/0000.npy": _npy(np.zeros((2, 3)))}),
            lambda p: _rewrite(p, {"templates/0000.npy": _npy(np.array([{"a": 1}]))}),
        ],
    )
    def test_corrupt_store_gives_one_line_naming_the_file(self, saved_store, corrupt):
        corrupt(saved_store)
        with pytest.raises(TemplateStoreError) as error:
            TemplateStore.open(saved_store, model_fingerprint=FINGERPRINT)
        message = str(error.value)
        assert "\n" not in message and message.startswith(str(saved_store))


def _npy(array) -> bytes:
    import io

    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=True)
    return buffer.getvalue()


def _rewrite(path, replacements: dict) -> None:
    with zipfile.ZipFile(path) as archive:
        contents = {n: archive.read(n) for n in archive.namelist()}
    contents.update(replacements)
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in contents.items():
            archive.writestr(name, data)
