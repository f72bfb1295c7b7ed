"""Training: staged dataset in, ``model.tar.gz`` (ONNX + model.json) and metrics out.

Modules, in the order a run uses them: ``config`` (what to train), ``data`` (read the
staged dataset and hold out validation), ``models`` (networks, with preprocessing inside),
``trainer`` (the loop), ``calibration`` and ``metrics`` (pure functions on probabilities),
``export`` (ONNX with a parity check), ``charts``, ``run`` (the ``scones train`` library
function) and ``sagemaker`` (the same entry point as a SageMaker training job).
torch is imported only by the modules that need it.
"""
