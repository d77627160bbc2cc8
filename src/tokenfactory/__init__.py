"""tokenfactory: provision Huawei Ascend super-node clusters as code."""

__version__ = "0.1.0"
