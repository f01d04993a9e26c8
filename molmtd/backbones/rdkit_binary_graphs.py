"""Batched OGB graph featurisation read from RDKit's binary molecule format.

:func:`molmtd.backbones.features.mol_to_graph` asks RDKit for every feature of every atom
and bond through Python objects; creating those objects is most of its cost (see
``docs/speed.md``). :func:`decode_graphs` instead serialises each molecule with
``Mol.ToBinary()`` (one C++ call) and decodes the atom, bond and ring records of a whole
chunk of molecules with NumPy, looping over record positions (the i-th atom of every
molecule at once) rather than over atoms. The graphs are identical to ``mol_to_graph``'s.

The binary format (RDKit ``MolPickler``, major version 16, with the small-molecule
layout of one-byte atom indices) is internal to RDKit. The decoder therefore reads only
that version and layout, returns None for any molecule whose record holds something it
does not decode (queries, atom-map numbers, dummy labels, monomer info, more than 255
atoms, an unknown bond stereo value, another version), and the caller featurises those
with ``mol_to_graph``. ``tests/backbones`` compares both on thousands of molecules.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np

from molmtd.backbones.ogb_vocab import ALLOWABLE_FEATURES

SUPPORTED_MAJOR_VERSION = 16

_ENDIAN_ID = 0xDEADBEEF
_HEADER_BYTES = 20  # endian id, VERSION tag, major, minor, patch: int32 each
_BEGINATOM, _BEGINBOND = 1, 11
_RING_TAGS = (20, 66, 67, 68)  # BEGINSSSR, BEGINSYMMSSSR, BEGINFASTFIND, BEGINFINDOTHERORUNKNOWN
_SMALL_MOL_FLAG = 0x80
_MAX_SMALL_ATOMS = 255  # above this RDKit writes int32 atom indices

# atom record: atomic number (uint8), flags (uint8), property flags (int32), then one byte
# per set property bit 1..7 in this order, and a uint32 isotope for bit 8
_ATOM_AROMATIC, _ATOM_NO_IMPLICIT = 1 << 6, 1 << 5
_ATOM_UNDECODED = (1 << 4) | (1 << 3) | (1 << 2) | (1 << 1)  # query, map number, dummy, monomer
_PROP_CHARGE, _PROP_CHIRAL, _PROP_HYBRID, _PROP_NUM_EXPLICIT_H = 1, 2, 3, 4
_PROP_EXPLICIT_VALENCE, _PROP_IMPLICIT_VALENCE, _PROP_RADICALS, _PROP_ISOTOPE = 5, 6, 7, 8
_PROP_KNOWN = 0b1_1111_1110
# bond record: begin, end (uint8), flags (uint8), then type, direction, stereo bytes
_BOND_CONJUGATED, _BOND_QUERY, _BOND_TYPE, _BOND_DIR = 1 << 5, 1 << 4, 1 << 3, 1 << 2
_BOND_STEREO, _BOND_ENDPOINTS = 1 << 1, 1


@cache
def _tables() -> dict[str, Any]:
    """Look-up tables from RDKit's enum values to OGB feature indices, built from names."""
    from rdkit import Chem

    def table(enum: Any, vocabulary: list[Any], misc: int) -> np.ndarray:
        index = {name: i for i, name in enumerate(vocabulary)}
        size = max(int(k) for k in enum.values) + 1
        out = np.full(256, misc, dtype=np.int16)
        for value in range(size):
            out[value] = index.get(str(enum.values[value]), misc)
        return out

    allowed = ALLOWABLE_FEATURES
    stereo = table(Chem.BondStereo, allowed["possible_bond_stereo_list"], -1)  # -1: undecoded
    return {
        "chiral": table(Chem.ChiralType, allowed["possible_chirality_list"], 4),
        "hybrid": table(Chem.HybridizationType, allowed["possible_hybridization_list"], 5),
        "bond_type": table(Chem.BondType, allowed["possible_bond_type_list"], 4),
        "bond_stereo": stereo,
        "sp3": int(Chem.HybridizationType.SP3),
        "single": int(Chem.BondType.SINGLE),
    }


def _int32(buf: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """Little-endian int32 at each of ``pos`` (as int64)."""
    value = (
        buf[pos].astype(np.int64)
        | buf[pos + 1].astype(np.int64) << 8
        | buf[pos + 2].astype(np.int64) << 16
        | buf[pos + 3].astype(np.int64) << 24
    )
    return np.where(value >= 1 << 31, value - (1 << 32), value)


def _categorical(values: np.ndarray, low: int, high: int, misc: int) -> np.ndarray:
    """OGB index of integer features whose vocabulary is ``low..high`` then ``misc``."""
    return np.where((values >= low) & (values <= high), values - low, misc)


def decode_graphs(mols: Sequence[Any]) -> list[dict[str, np.ndarray] | None]:
    """Featurise RDKit molecules as :func:`~molmtd.backbones.features.mol_to_graph` does.

    Parameters
    ----------
    mols
        Sanitised RDKit ``Mol`` objects with at least one atom.

    Returns
    -------
    list
        For each molecule, the same dict ``mol_to_graph`` returns (``x`` uint8 [n, 9],
        ``edge_index`` int32 [2, 2 * n_bonds], ``edge_attr`` uint8 [2 * n_bonds, 3]), or
        None where its binary record holds something this decoder does not read; featurise
        those with ``mol_to_graph``.
    """
    if not mols:
        return []
    blobs = [mol.ToBinary() for mol in mols]
    lengths = np.fromiter((len(b) for b in blobs), dtype=np.int64, count=len(blobs))
    # padded so that reads past a truncated record stay in bounds (such molecules are "bad")
    buf = np.frombuffer(b"".join(blobs) + bytes(16), dtype=np.uint8)
    starts = np.zeros(len(blobs), dtype=np.int64)
    np.cumsum(lengths[:-1], out=starts[1:])
    ends = starts + lengths

    bad = (lengths < _HEADER_BYTES + 10) | (_int32(buf, starts) != _int32_of(_ENDIAN_ID))
    bad |= _int32(buf, starts + 8) != SUPPORTED_MAJOR_VERSION
    n_atoms = _int32(buf, starts + 20)
    n_bonds = _int32(buf, starts + 24)
    bad |= (n_atoms < 1) | (n_atoms > _MAX_SMALL_ATOMS) | (n_bonds < 0)
    bad |= (buf[starts + 28] != _SMALL_MOL_FLAG) | (buf[starts + 29] != _BEGINATOM)
    n_atoms = np.where(bad, 0, n_atoms)
    n_bonds = np.where(bad, 0, n_bonds)
    pos = starts + 30

    records = _Records(buf, pos, ends, bad)
    atom_offsets = np.zeros(len(mols) + 1, dtype=np.int64)
    np.cumsum(n_atoms, out=atom_offsets[1:])
    atoms = _decode_atoms(records, n_atoms, atom_offsets)
    bad |= pos >= ends
    bad |= buf[np.minimum(pos, len(buf) - 1)] != _BEGINBOND
    pos += 1
    n_bonds = np.where(bad, 0, n_bonds)
    bond_offsets = np.zeros(len(mols) + 1, dtype=np.int64)
    np.cumsum(n_bonds, out=bond_offsets[1:])
    bonds = _decode_bonds(records, n_bonds, bond_offsets)
    in_ring = _decode_rings(records, atom_offsets)
    return _assemble(atoms, bonds, in_ring, atom_offsets, bond_offsets, bad)


def _int32_of(value: int) -> int:
    return value - (1 << 32) if value >= 1 << 31 else value


@dataclass
class _Records:
    """A chunk's concatenated binary records, with a read position in each molecule's.

    ``bad`` marks the molecules whose record the decoder has given up on; they are skipped.
    """

    buf: np.ndarray
    pos: np.ndarray
    ends: np.ndarray
    bad: np.ndarray

    def kth(self, counts: np.ndarray) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
        """For k = 0, 1, ...: k, the molecules with a k-th record left, their positions."""
        for k in range(int(counts.max(initial=0))):
            mol = np.flatnonzero((counts > k) & ~self.bad)
            if mol.size == 0:
                return
            yield k, mol, self.pos[mol]

    def advance(self, mol: np.ndarray, pos: np.ndarray, undecoded: np.ndarray) -> None:
        """Move ``mol``'s positions to ``pos``; give up on the undecoded or overrun ones."""
        self.pos[mol] = pos
        self.bad[mol[undecoded | (pos > self.ends[mol])]] = True


def _decode_atoms(
    records: _Records, n_atoms: np.ndarray, offsets: np.ndarray
) -> dict[str, np.ndarray]:
    """Atom records of every molecule, the k-th atoms together; advances ``pos`` in place."""
    tables = _tables()
    total = int(offsets[-1])
    fields = ("z", "charge", "chiral", "hybrid", "explicit_h", "implicit", "radicals")
    out = {name: np.zeros(total, dtype=np.int64) for name in fields}
    out["aromatic"] = np.zeros(total, dtype=np.int64)
    defaults = {"hybrid": tables["sp3"]}  # what an atom record without that field means
    buf = records.buf
    for k, mol, p in records.kth(n_atoms):
        flags = buf[p + 1].astype(np.int64)
        props = _int32(buf, p + 2)
        undecoded = ((flags & _ATOM_UNDECODED) != 0) | ((props & ~_PROP_KNOWN) != 0)
        at = offsets[mol] + k
        out["z"][at] = buf[p]
        out["aromatic"][at] = (flags & _ATOM_AROMATIC) != 0
        no_implicit = (flags & _ATOM_NO_IMPLICIT) != 0
        q = p + 6
        for bit, name in (
            (_PROP_CHARGE, "charge"),
            (_PROP_CHIRAL, "chiral"),
            (_PROP_HYBRID, "hybrid"),
            (_PROP_NUM_EXPLICIT_H, "explicit_h"),
            (_PROP_EXPLICIT_VALENCE, None),
            (_PROP_IMPLICIT_VALENCE, "implicit"),
            (_PROP_RADICALS, "radicals"),
        ):
            has = (props >> bit) & 1
            if name is not None:
                value = buf[q].astype(np.int64)
                if name == "charge":
                    value = np.where(value > 127, value - 256, value)
                out[name][at] = np.where(has == 1, value, defaults.get(name, 0))
            q = q + has
        q = q + 4 * ((props >> _PROP_ISOTOPE) & 1)
        out["implicit"][at] = np.where(no_implicit, 0, out["implicit"][at])
        records.advance(mol, q, undecoded)
    return out


def _decode_bonds(
    records: _Records, n_bonds: np.ndarray, offsets: np.ndarray
) -> dict[str, np.ndarray]:
    """Bond records of every molecule, the k-th bonds together; advances ``pos`` in place."""
    tables = _tables()
    total = int(offsets[-1])
    out = {name: np.zeros(total, dtype=np.int64) for name in ("begin", "end", "type", "stereo")}
    out["conjugated"] = np.zeros(total, dtype=np.int64)
    buf = records.buf
    for k, mol, p in records.kth(n_bonds):
        flags = buf[p + 2].astype(np.int64)
        at = offsets[mol] + k
        out["begin"][at], out["end"][at] = buf[p], buf[p + 1]
        out["conjugated"][at] = (flags & _BOND_CONJUGATED) != 0
        q = p + 3
        has_type = (flags & _BOND_TYPE) != 0
        out["type"][at] = np.where(has_type, buf[q], tables["single"])
        q = q + has_type
        q = q + ((flags & _BOND_DIR) != 0)
        has_stereo = (flags & _BOND_STEREO) != 0
        out["stereo"][at] = np.where(has_stereo, buf[q], 0)
        q = q + has_stereo * (2 + buf[q + 1].astype(np.int64))
        undecoded = (flags & (_BOND_QUERY | _BOND_ENDPOINTS)) != 0
        undecoded |= tables["bond_stereo"][out["stereo"][at]] < 0
        records.advance(mol, q, undecoded)
    return out


def _decode_rings(records: _Records, atom_offsets: np.ndarray) -> np.ndarray:
    """Ring membership of every atom from the ring-information records."""
    buf, pos, bad = records.buf, records.pos, records.bad
    in_ring = np.zeros(int(atom_offsets[-1]), dtype=bool)
    tag = buf[np.minimum(pos, len(buf) - 1)]
    bad |= ~np.isin(tag, _RING_TAGS) | (pos + 5 > records.ends)  # no ring information
    n_rings = np.where(bad, 0, _int32(buf, pos + 1) & 0xFFFFFFFF)
    pos += 5
    for _, mol, p in records.kth(n_rings):
        size = buf[p].astype(np.int64)
        member = np.repeat(p + 1, size) + _ranges(size)
        owner = np.repeat(atom_offsets[mol], size)
        in_ring[owner + buf[member]] = True
        records.advance(mol, p + 1 + size, np.zeros(mol.size, dtype=bool))
    return in_ring


def _ranges(sizes: np.ndarray) -> np.ndarray:
    """``concatenate([arange(s) for s in sizes])`` without a Python loop."""
    total = int(sizes.sum())
    starts = np.repeat(np.cumsum(sizes) - sizes, sizes)
    return np.arange(total, dtype=np.int64) - starts


def _assemble(
    atoms: dict[str, np.ndarray],
    bonds: dict[str, np.ndarray],
    in_ring: np.ndarray,
    atom_offsets: np.ndarray,
    bond_offsets: np.ndarray,
    bad: np.ndarray,
) -> list[dict[str, np.ndarray] | None]:
    """OGB feature columns from the decoded records, split into one graph per molecule."""
    tables = _tables()
    n_mols = len(atom_offsets) - 1
    bond_mol = np.repeat(np.arange(n_mols), np.diff(bond_offsets))
    begin = bonds["begin"] + atom_offsets[bond_mol]
    end = bonds["end"] + atom_offsets[bond_mol]
    degree = np.bincount(begin, minlength=len(in_ring)) + np.bincount(end, minlength=len(in_ring))
    num_h = atoms["explicit_h"] + atoms["implicit"]
    z = atoms["z"]
    x = np.stack(
        [
            np.where((z >= 1) & (z <= 118), z - 1, 118),
            tables["chiral"][atoms["chiral"]],
            _categorical(degree + num_h, 0, 10, 11),
            _categorical(atoms["charge"], -5, 5, 11),
            _categorical(num_h, 0, 8, 9),
            _categorical(atoms["radicals"], 0, 4, 5),
            tables["hybrid"][atoms["hybrid"]],
            atoms["aromatic"],
            in_ring,
        ],
        axis=1,
    ).astype(np.uint8)
    bond_attr = np.stack(
        [
            tables["bond_type"][bonds["type"]],
            tables["bond_stereo"][bonds["stereo"]],
            bonds["conjugated"],
        ],
        axis=1,
    ).astype(np.uint8)
    # both directions of each bond, (i, j) then (j, i), as mol_to_graph lists them
    local = np.stack([bonds["begin"], bonds["end"]], axis=1)
    edge_index = np.stack([local, local[:, ::-1]], axis=1).reshape(-1, 2).T.astype(np.int32)
    edge_attr = np.repeat(bond_attr, 2, axis=0)
    graphs: list[dict[str, np.ndarray] | None] = []
    for m in range(n_mols):
        if bad[m]:
            graphs.append(None)
            continue
        a0, a1 = atom_offsets[m], atom_offsets[m + 1]
        e0, e1 = 2 * bond_offsets[m], 2 * bond_offsets[m + 1]
        graphs.append(
            {
                "x": x[a0:a1].copy(),
                "edge_index": edge_index[:, e0:e1].copy(),
                "edge_attr": edge_attr[e0:e1].copy(),
            }
        )
    return graphs
