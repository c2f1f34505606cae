"""Reports for hotline managers, computed from the tracker store (docs/report.md)."""
