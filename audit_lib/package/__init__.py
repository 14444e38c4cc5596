"""Reading a data package: schema, value parsing, identity numbers, quarantine, loading."""
from .load import Package, load_package

__all__ = ["Package", "load_package"]
