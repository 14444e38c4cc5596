"""Audit workbench for the 惠民惠农财政补贴“一卡通” reform.

Pipeline: package (read, validate) -> checks (catalogue, engine) -> findings -> report, signature, archive.
"""
__version__ = "0.1.0"
