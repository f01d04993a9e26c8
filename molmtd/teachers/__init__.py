"""Teachers: RDKit fingerprints/descriptors, SMILES language models, ChemNet, 3D."""

from molmtd.teachers.base import (
    BaseTeacher,
    Teacher,
    get_teacher,
    list_teachers,
    register_teacher,
)

__all__ = ["BaseTeacher", "Teacher", "get_teacher", "list_teachers", "register_teacher"]
