"""What auditors see: the district notebook's sections, charts, the workpaper, and rendering to HTML."""
