"""Student backbones: molecular GNNs (PyG), Hugging Face text encoders, small CNNs."""

from molmtd.backbones.base import Backbone, build_backbone, list_backbones, register_backbone

__all__ = ["Backbone", "build_backbone", "list_backbones", "register_backbone"]
