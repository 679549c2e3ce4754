"""Experiment presets: one module per paper table/figure (STYLE 1.5: experiments are data)."""

#: ``--budget`` of the drivers: ``paper`` runs the paper's protocol; ``hour`` applies each
#: module's ``HOUR`` cuts (tagged ``Paper deviation:``) so that ``make reproduce-all`` fits in an
#: hour on 2 cores.
BUDGETS = ("paper", "hour")
