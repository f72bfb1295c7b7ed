"""CIFAR-100 reading and staging, and the staged dataset layout (``dataset.py``) every later step reads."""
