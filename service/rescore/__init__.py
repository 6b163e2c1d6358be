"""Batch rescoring (``catchall rescore``): streamed input, row validation, resumable parts, local or Dask.

Modules: :mod:`~service.rescore.inputs` (chunks), :mod:`~service.rescore.checks` and
:mod:`~service.rescore.validate` (rows), :mod:`~service.rescore.output` (the result file),
:mod:`~service.rescore.parts` (resume), :mod:`~service.rescore.compare` (``--compare``).
"""

__all__: list[str] = []
