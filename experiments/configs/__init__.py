"""Experiment presets: one module per paper table/figure (STYLE 1.5: experiments are data)."""
