"""Audit workbench for the 惠民惠农财政补贴“一卡通” reform.

Pipeline: package (read, validate) -> checks (catalogue, engine) -> findings -> report, signature, archive.
"""
__version__ = "0.1.0"

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]   # notebooks/, params/, reports/ and demo/ live here
