"""Task tables of the benchmark suites: names, files, columns, task types and metrics.

Role: the constants that say what each suite contains, shared by the loaders
(:mod:`molmtd.data.datasets`) and the offline rebuild of the TDC ADMET-group test sets
(:mod:`molmtd.data.tdc_offline`). Imports nothing of molmtd, so both can import it.
"""

from __future__ import annotations

#: TDC ADMET group: task -> (metric, task type). Metric names follow molmtd.evaluate.metrics.
TDC_ADMET_TASKS: dict[str, tuple[str, str]] = {
    "caco2_wang": ("mae", "regression"),
    "hia_hou": ("auroc", "classification"),
    "pgp_broccatelli": ("auroc", "classification"),
    "bioavailability_ma": ("auroc", "classification"),
    "lipophilicity_astrazeneca": ("mae", "regression"),
    "solubility_aqsoldb": ("mae", "regression"),
    "bbb_martins": ("auroc", "classification"),
    "ppbr_az": ("mae", "regression"),
    "vdss_lombardo": ("spearman", "regression"),
    "cyp2d6_veith": ("auprc", "classification"),
    "cyp3a4_veith": ("auprc", "classification"),
    "cyp2c9_veith": ("auprc", "classification"),
    "cyp2d6_substrate_carbonmangels": ("auprc", "classification"),
    "cyp3a4_substrate_carbonmangels": ("auroc", "classification"),
    "cyp2c9_substrate_carbonmangels": ("auprc", "classification"),
    "half_life_obach": ("spearman", "regression"),
    "clearance_microsome_az": ("spearman", "regression"),
    "clearance_hepatocyte_az": ("spearman", "regression"),
    "herg": ("auroc", "classification"),
    "ames": ("auroc", "classification"),
    "dili": ("auroc", "classification"),
    "ld50_zhu": ("mae", "regression"),
}

#: TDC task -> molalkit wheel CSV (offline fallback; clearance_microsome_az is absent).
#: All these files use TDC's own columns ``Drug_ID,Drug,Y`` except lipophilicity.
MOLALKIT_TDC_FILES: dict[str, tuple[str, str, str]] = {
    "caco2_wang": ("caco2_wang.csv", "Drug", "Y"),
    "hia_hou": ("hia_hou.csv", "Drug", "Y"),
    "pgp_broccatelli": ("pgp_broccatelli.csv", "Drug", "Y"),
    "bioavailability_ma": ("bioavailability_ma.csv", "Drug", "Y"),
    "lipophilicity_astrazeneca": ("lipo.csv", "smiles", "lipo"),
    "solubility_aqsoldb": ("solubility_aqsoldb.csv", "Drug", "Y"),
    "bbb_martins": ("bbb_martins.csv", "Drug", "Y"),
    "ppbr_az": ("ppbr_az.csv", "Drug", "Y"),
    "vdss_lombardo": ("vdss_lombardo.csv", "Drug", "Y"),
    "cyp2d6_veith": ("CYP2D6_Veith.csv", "Drug", "Y"),
    "cyp3a4_veith": ("CYP3A4_Veith.csv", "Drug", "Y"),
    "cyp2c9_veith": ("CYP2C9_Veith.csv", "Drug", "Y"),
    "cyp2d6_substrate_carbonmangels": ("CYP2D6_Substrate_CarbonMangels.csv", "Drug", "Y"),
    "cyp3a4_substrate_carbonmangels": ("CYP3A4_Substrate_CarbonMangels.csv", "Drug", "Y"),
    "cyp2c9_substrate_carbonmangels": ("CYP2C9_Substrate_CarbonMangels.csv", "Drug", "Y"),
    "half_life_obach": ("Half_Life_Obach.csv", "Drug", "Y"),
    "clearance_hepatocyte_az": ("Clearance_Hepatocyte_AZ.csv", "Drug", "Y"),
    "herg": ("herg.csv", "Drug", "Y"),
    "ames": ("ames.csv", "Drug", "Y"),
    "dili": ("dili.csv", "Drug", "Y"),
    "ld50_zhu": ("ld50_zhu.csv", "Drug", "Y"),
}

#: MoleculeNet: name -> (file, smiles column, label columns or None = all but smiles/ids,
#: task type, metric).
MOLECULENET_TASKS: dict[str, tuple[str, str, list[str] | None, str, str]] = {
    "bbbp": ("bbbp.csv", "SMILES", ["p_np"], "classification", "auroc"),
    "bace": ("bace.csv", "mol", ["Class"], "classification", "auroc"),
    "clintox": ("clintox.csv", "smiles", ["FDA_APPROVED", "CT_TOX"], "classification", "auroc"),
    "tox21": ("tox21.csv", "smiles", None, "classification", "auroc"),
    "sider": ("sider.csv.gz", "smiles", None, "classification", "auroc"),
    "hiv": ("hiv.csv", "smiles", ["HIV_active"], "classification", "auroc"),
    "esol": (
        "esol.csv",
        "smiles",
        ["measured log solubility in mols per litre"],
        "regression",
        "rmse",
    ),
    "freesolv": ("freesolv.csv", "smiles", ["expt"], "regression", "rmse"),
    "lipophilicity": ("lipophilicity.csv", "smiles", ["exp"], "regression", "rmse"),
}

#: MoleculeNet offline fallback inside the molalkit wheel.
MOLALKIT_MOLECULENET_FILES: dict[str, tuple[str, str, str]] = {
    "bbbp": ("bbbp.csv", "smiles", "p_np"),
    "bace": ("bace.csv", "mol", "Class"),
    "hiv": ("hiv.csv", "smiles", "HIV_active"),
    "esol": ("delaney.csv", "smiles", "logSolubility"),
    "freesolv": ("freesolv.csv", "smiles", "freesolv"),
    "lipophilicity": ("lipo.csv", "smiles", "lipo"),
}

#: The seed paper's suite: TDC single-instance ADMET/Tox sets available offline (molalkit
#: wheel), random 80/10/10 splits, mean AUROC (classification) / R2 (regression).
PAPER_TASKS: dict[str, tuple[str, str, str, str]] = {
    # name: (file, smiles column, label column, task type)
    "caco2_wang": ("caco2_wang.csv", "Drug", "Y", "regression"),
    "hia_hou": ("hia_hou.csv", "Drug", "Y", "classification"),
    "pgp_broccatelli": ("pgp_broccatelli.csv", "Drug", "Y", "classification"),
    "bioavailability_ma": ("bioavailability_ma.csv", "Drug", "Y", "classification"),
    "lipophilicity_astrazeneca": ("lipo.csv", "smiles", "lipo", "regression"),
    "solubility_aqsoldb": ("solubility_aqsoldb.csv", "Drug", "Y", "regression"),
    "bbb_martins": ("bbb_martins.csv", "Drug", "Y", "classification"),
    "pampa_ncats": ("PAMPA_NCATS.csv", "SMILES", "Y", "classification"),
    "ppbr_az": ("ppbr_az.csv", "Drug", "Y", "regression"),
    "vdss_lombardo": ("vdss_lombardo.csv", "Drug", "log_Y", "regression"),
    "cyp1a2_veith": ("CYP1A2_Veith.csv", "Drug", "Y", "classification"),
    "cyp2c19_veith": ("CYP2C19_Veith.csv", "Drug", "Y", "classification"),
    "cyp2c9_veith": ("CYP2C9_Veith.csv", "Drug", "Y", "classification"),
    "cyp2d6_veith": ("CYP2D6_Veith.csv", "Drug", "Y", "classification"),
    "cyp3a4_veith": ("CYP3A4_Veith.csv", "Drug", "Y", "classification"),
    "cyp2c9_substrate_carbonmangels": (
        "CYP2C9_Substrate_CarbonMangels.csv",
        "Drug",
        "Y",
        "classification",
    ),
    "cyp2d6_substrate_carbonmangels": (
        "CYP2D6_Substrate_CarbonMangels.csv",
        "Drug",
        "Y",
        "classification",
    ),
    "cyp3a4_substrate_carbonmangels": (
        "CYP3A4_Substrate_CarbonMangels.csv",
        "Drug",
        "Y",
        "classification",
    ),
    "half_life_obach": ("Half_Life_Obach.csv", "Drug", "log_Y", "regression"),
    "clearance_hepatocyte_az": ("Clearance_Hepatocyte_AZ.csv", "Drug", "log_Y", "regression"),
    "herg": ("herg.csv", "Drug", "Y", "classification"),
    "ames": ("ames.csv", "Drug", "Y", "classification"),
    "dili": ("dili.csv", "Drug", "Y", "classification"),
    "skin_reaction": ("skin.csv", "Drug", "Y", "classification"),
    "carcinogens_lagunin": ("carcinogens_lagunin.csv", "Drug", "Y", "classification"),
    "ld50_zhu": ("ld50_zhu.csv", "Drug", "Y", "regression"),
    "clintox": ("clintox.csv", "Drug", "Y", "classification"),
    "hiv": ("hiv.csv", "smiles", "HIV_active", "classification"),
}

#: Standard row counts (data rows, after pandas drops blank lines) used as a sanity check.
EXPECTED_ROWS_MOLECULENET = {
    "bbbp": 2050, "bace": 1513, "clintox": 1484, "tox21": 7831, "sider": 1427,
    "hiv": 41127, "esol": 1128, "freesolv": 642, "lipophilicity": 4200,
}  # fmt: skip

#: ``moleculenet-dc`` is MoleculeNet split by DeepChem's ``ScaffoldSplitter`` (the split of
#: published MoleculeNet tables made with DeepChem), ``moleculenet`` by OGB's scaffold split.
SUITES = ("tdc-admet", "moleculenet", "moleculenet-dc", "paper")

#: Four small, fast tasks per suite for ``--quick``.
QUICK_TASKS = {
    "tdc-admet": ["caco2_wang", "hia_hou", "herg", "half_life_obach"],
    "moleculenet": ["bace", "bbbp", "esol", "freesolv"],
    "moleculenet-dc": ["bace", "bbbp", "esol", "freesolv"],
    "paper": ["caco2_wang", "hia_hou", "herg", "dili"],
}
