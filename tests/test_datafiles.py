"""Damaged, hostile and mislabelled data files: each is one line, ``mivb: x: expected ..., received x=...``,
and exit status 2, never a traceback, and nothing is allocated for what a header merely declares."""

import io
import tracemalloc
import zipfile

import numpy as np
import pytest

from mivb.cli import main
from mivb.datafiles import load_array


@pytest.fixture
def good(tmp_path):
    """A valid X file: errors about Z come after X has loaded."""
    np.save(tmp_path / "good.npy", np.zeros((50, 2)))
    return tmp_path / "good.npy"


def file_error(capsys, good, bad, argument="z"):
    """The one line ``mivb estimate good bad`` prints, checked for its standard form."""
    status = main(["estimate", str(good), str(bad), "--steps", "2"])
    out, err = capsys.readouterr()
    assert status == 3 and out == "", (status, out, err)  # 3: a data error
    assert err.startswith(f"mivb: {argument}: expected ") and err.count("\n") == 1, err
    assert f", received {argument}='{bad}'" in err, err
    return err


def npy_bytes(array=None, *, header=None):
    """A .npy file's bytes: ``array`` saved, or a version 1.0 header ``header`` and 32 bytes of data."""
    buffer = io.BytesIO()
    if header is None:
        np.save(buffer, array)
    else:
        np.lib.format.write_array_header_1_0(buffer, header)
        buffer.write(bytes(32))
    return buffer.getvalue()


def write_zip(path, members, compression=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def huge_header(shape):
    return {"descr": "<f8", "fortran_order": False, "shape": shape}


def test_npz_members_that_are_not_npy_files(capsys, good, tmp_path):
    text = write_zip(tmp_path / "text.npz", {"x.txt": "1,2\n3,4\n"})
    assert "an archive of .npy files, as numpy.savez writes (its member 'x.txt' is not one)" in file_error(
        capsys, good, text)
    assert "its member 'x.txt' is not one" in file_error(capsys, good, f"{text}:x.txt")
    garbage = write_zip(tmp_path / "garbage.npz", {"x.npy": b"\x00 not an array at all"})
    assert "a .npy file as member 'x.npy' (it does not start with NumPy's .npy header)" in file_error(
        capsys, good, garbage)


def test_damaged_npy_headers(capsys, good, tmp_path, recwarn):
    (tmp_path / "header.npy").write_bytes(npy_bytes(np.ones(3)).replace(b"'shape'", b"'shapes'"))
    assert "a .npy file with a readable header (numpy: " in file_error(capsys, good, tmp_path / "header.npy")
    (tmp_path / "descr.npy").write_bytes(npy_bytes(np.ones(3)).replace(b"'<f8'", b"'<,8'"))
    assert "with a readable header" in file_error(capsys, good, tmp_path / "descr.npy")  # numpy: a SyntaxError
    (tmp_path / "alias.npy").write_bytes(npy_bytes(np.ones(3)).replace(b"'<f8'", b"'<a8'"))
    status = main(["estimate", str(good), str(tmp_path / "alias.npy")])  # bytes, under an alias numpy warns about
    err = capsys.readouterr().err
    assert status == 3 and err.count("\n") == 1 and "z: expected an array of real numbers" in err, err
    assert len(recwarn) == 0  # printed by the command, numpy's DeprecationWarning would be a second line
    (tmp_path / "version.npy").write_bytes(b"\x93NUMPY\x09\x00" + npy_bytes(np.ones(3))[8:])
    assert "a format version numpy reads (1.0, 2.0 or 3.0; it is 9.0)" in file_error(
        capsys, good, tmp_path / "version.npy")
    (tmp_path / "negative.npy").write_bytes(npy_bytes(header=huge_header((-1, 2))))
    assert "declares no negative size (its shape is (-1, 2))" in file_error(capsys, good, tmp_path / "negative.npy")


def test_crc_corrupt_npz(capsys, good, tmp_path):
    np.savez(tmp_path / "saved.npz", z=np.arange(200.0))
    data = bytearray((tmp_path / "saved.npz").read_bytes())
    at = data.index(b"\x93NUMPY") + 300  # inside the array's data, not its header
    data[at:at + 8] = bytes(byte ^ 0xFF for byte in data[at:at + 8])
    (tmp_path / "crc.npz").write_bytes(data)
    assert "an intact .npz archive (zip: Bad CRC-32 for file 'z.npy')" in file_error(capsys, good, tmp_path / "crc.npz")


def test_corrupt_compressed_npz(capsys, good, tmp_path):
    np.savez_compressed(tmp_path / "saved.npz", z=np.random.default_rng(0).standard_normal(2000))
    data = bytearray((tmp_path / "saved.npz").read_bytes())
    at = len(data) // 2  # inside the deflate stream
    data[at:at + 64] = bytes(64)
    (tmp_path / "deflate.npz").write_bytes(data)
    assert "an intact .npz archive (zip: " in file_error(capsys, good, tmp_path / "deflate.npz")


def test_encrypted_npz(capsys, good, tmp_path):
    np.savez(tmp_path / "saved.npz", z=np.arange(10.0))
    data = bytearray((tmp_path / "saved.npz").read_bytes())
    local, central = data.index(b"PK\x03\x04"), data.index(b"PK\x01\x02")
    data[local + 6] |= 1  # bit 0 of the general purpose flags: encrypted
    data[central + 8] |= 1
    (tmp_path / "encrypted.npz").write_bytes(data)
    assert "an unencrypted .npz archive (its member 'z.npy' is encrypted)" in file_error(
        capsys, good, tmp_path / "encrypted.npz")


@pytest.mark.parametrize("shape", [(10**15, 2), (10**6, 4), (10**40, 10**40)])
def test_a_header_declaring_more_data_than_the_file_holds_is_refused_before_allocating(capsys, good, tmp_path, shape):
    huge = npy_bytes(header=huge_header(shape))
    (tmp_path / "huge.npy").write_bytes(huge)
    write_zip(tmp_path / "huge.npz", {"z.npy": huge})
    needed = 8 * shape[0] * shape[1]
    for bad, what in [(tmp_path / "huge.npy", "a .npy file"), (tmp_path / "huge.npz", "a .npy file as member 'z.npy'")]:
        tracemalloc.start()  # numpy reports its array allocations to tracemalloc
        try:
            err = file_error(capsys, good, bad)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert f"{what} holding the data its header declares (shape {shape} of float64 is {needed} bytes; " \
               "the file holds 32)" in err
        assert peak < 4_000_000, peak  # (10**6, 4) is 32 MB: it was allocated before the read failed


def test_csv_that_is_not_utf8(capsys, good, tmp_path):
    (tmp_path / "latin1.csv").write_bytes("a,b\n1,caf\u00e9\n".encode("latin-1"))
    err = file_error(capsys, good, tmp_path / "latin1.csv")
    assert "a UTF-8 text file (byte 0xe9 on line 2 is not UTF-8: save the CSV as UTF-8)" in err
    (tmp_path / "utf16.csv").write_bytes("x,y\n1,2\n".encode("utf-16"))
    assert "a UTF-8 text file (byte 0xff on line 1" in file_error(capsys, good, tmp_path / "utf16.csv")


def test_csv_with_a_header_and_no_rows(capsys, good, tmp_path, recwarn):
    (tmp_path / "header_only.csv").write_text("a,b\n# no data\n")
    assert "a CSV file with at least one row of numbers" in file_error(capsys, good, tmp_path / "header_only.csv")
    assert len(recwarn) == 0  # numpy's "input contained no data" warning would be a second line


def test_valid_files_still_load(tmp_path):
    """The checks above leave every valid layout readable: compressed archives, members named
    with their .npy suffix, trailing bytes after the data, format versions 2.0 and 3.0."""
    values = np.arange(12.0).reshape(6, 2)
    np.savez_compressed(tmp_path / "compressed.npz", z=values)
    for source in ("compressed.npz", "compressed.npz:z", "compressed.npz:z.npy"):
        assert np.array_equal(load_array(str(tmp_path / source), "z"), values), source
    (tmp_path / "trailing.npy").write_bytes(npy_bytes(values) + b"extra")
    assert np.array_equal(load_array(str(tmp_path / "trailing.npy"), "z"), values)
    for version in [(2, 0), (3, 0)]:
        with open(tmp_path / "versioned.npy", "wb") as file:
            np.lib.format.write_array(file, values, version=version)
        assert np.array_equal(load_array(str(tmp_path / "versioned.npy"), "z"), values), version
    np.save(tmp_path / "empty.npy", np.zeros((0, 2)))  # zero bytes of data: estimate says it is empty
    assert load_array(str(tmp_path / "empty.npy"), "z").shape == (0, 2)
