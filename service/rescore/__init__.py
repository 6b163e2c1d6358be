"""Batch rescoring (``catchall rescore``): streamed input, row validation, resumable parts, local or Dask.

Modules: :mod:`~service.rescore.inputs` (fixed-size chunks of JSON Lines or Parquet),
:mod:`~service.rescore.checks`, :mod:`~service.rescore.jsonflat` and :mod:`~service.rescore.validate`
(row validation: vectorised checks, pydantic for the rest), :mod:`~service.rescore.worker` (the per-chunk
function), :mod:`~service.rescore.engine` (the run, local engine), :mod:`~service.rescore.dask_engine`,
:mod:`~service.rescore.loading` (scorer and case opener from paths), :mod:`~service.rescore.output`
(the result file), :mod:`~service.rescore.parts` (resume) and :mod:`~service.rescore.compare`
(``--compare``).
"""

__all__: list[str] = []
