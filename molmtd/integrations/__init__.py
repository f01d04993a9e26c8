"""molmtd inside other toolkits: DeepChem featurizers (:mod:`molmtd.integrations.deepchem`)."""
