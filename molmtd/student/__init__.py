"""The student runtime: load and verify a trained student, and run it on molecules.

- :mod:`~molmtd.student.files`: the file names of a student folder, finding one in a run.
- :mod:`~molmtd.student.cards`: model cards and the sha256 checks of every file.
- :mod:`~molmtd.student.shipped`: the students shipped in ``molmtd/models``.
- :mod:`~molmtd.student.columns`: the names of a student's row columns (heads included).
- :mod:`~molmtd.student.loading`: :func:`load_student` (unchecked) and :func:`load_model`.
- :mod:`~molmtd.student.molecules`: input molecules parsed, standardised and featurised.
- :mod:`~molmtd.student.backends`: the forward pass in torch, compiled, int8, bfloat16.
- :mod:`~molmtd.student.onnx`: export to ONNX and run with ONNX Runtime.
- :mod:`~molmtd.student.pool`: the process pool that embeds chunks on every core.
- :mod:`~molmtd.student.runtime`: :class:`StudentRuntime`, all of the above behind one call,
  which :class:`molmtd.Featurizer` wraps as a scikit-learn transformer.
"""
