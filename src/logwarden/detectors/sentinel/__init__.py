"""The detections as Microsoft Sentinel runs them: KQL analytic rules."""
