"""Every compiled module in a build is for the architecture that build is for: an x86_64 wheel in the arm64
layer imports fine on a developer's machine and fails on the first cold start in Lambda."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.build.conftest import ARCHITECTURES, build_dir

pytestmark = pytest.mark.build

# ELF e_machine values (the System V ABI's registry).
ELF_MACHINES = {"arm64": 183, "x86_64": 62}


def elf_machine(path: Path) -> int:
    """The e_machine field of an ELF file's header (offset 18, 2 bytes, in the file's byte order)."""
    with path.open("rb") as f:
        header = f.read(20)
    assert header[:4] == b"\x7fELF", f"{path} is not an ELF file"
    return int.from_bytes(header[18:20], "little" if header[5] == 1 else "big")


@pytest.mark.parametrize("build", sorted(ARCHITECTURES))
def test_compiled_modules_of_a_build_are_all_for_its_architecture(build: str) -> None:
    root = build_dir(build)
    # Extension modules and the shared libraries some wheels bundle beside them (name.so.1)
    compiled = sorted(p for pattern in ("*.so", "*.so.*") for p in root.rglob(pattern) if p.is_file())

    # The layer ships compiled wheels (pydantic-core, cryptography, ...): none found means the scan is wrong.
    assert compiled, f"no compiled module under {root}"
    expected = ELF_MACHINES[ARCHITECTURES[build]]
    wrong = {str(p.relative_to(root)): elf_machine(p) for p in compiled if elf_machine(p) != expected}
    assert wrong == {}, f"{build}: not {ARCHITECTURES[build]} (e_machine {expected}): {wrong}"
