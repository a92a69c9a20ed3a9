"""QualityView: imputation quality of one job, R² by MAF bin and per chromosome.

It renders the contract's ``quality --json`` document, so it works on any completed job whose
results were downloaded: ``QualityView.from_job(store, job_id)`` in a notebook, or bound to
the detail view's state in the dashboard.
"""

from __future__ import annotations

import pandas as pd
import panel as pn
import param

from fedimpute.ui.components._notes import NOTE_CSS
from fedimpute.ui.tables import make_table
from fedimpute.ui.text import note_html

__all__ = ["QualityView", "bin_rows"]


def bin_rows(quality: dict) -> pd.DataFrame:
    """The bins as a table, numbers rounded for reading."""
    from fedimpute.quality import bin_label

    def fmt(x):
        return "" if x is None else f"{x:.3f}"

    return pd.DataFrame([[bin_label(i), f"{b['n']:,}", fmt(b["mean_r2"]), fmt(b["frac_r2_ge_0_3"]),
                          fmt(b["frac_r2_ge_0_8"])] for i, b in enumerate(quality["bins"])],
                        columns=["MAF bin", "variants", "mean R²", "R² ≥ 0.3", "R² ≥ 0.8"])


def _fit(plot, height: int = 300):
    """A shared plot (fixed 640 px) resized to share a row."""
    from fedimpute.plots import fit

    return pn.pane.HoloViews(fit(plot, height), sizing_mode="stretch_width")


class QualityView(pn.viewable.Viewer):
    """Bars of mean R² and the shares of well-imputed variants per MAF bin, and the numbers."""

    quality = param.Dict(default=None, allow_None=True, allow_refs=True, doc="A `quality --json` document.")
    note = param.String(default="", allow_refs=True, doc="Shown when there is no document.")

    @classmethod
    def from_job(cls, store, job_id: str) -> QualityView:
        """The quality of a job whose results are downloaded (else a note saying what to do)."""
        from fedimpute.exceptions import FedImputeError
        from fedimpute.quality import job_quality

        try:
            return cls(quality=job_quality(store, job_id))
        except FedImputeError as exc:
            return cls(note=str(exc))

    @param.depends("quality", "note")
    def _view(self):
        if not self.quality:
            return pn.pane.HTML(note_html(self.note or "no quality summary yet"), stylesheets=[NOTE_CSS],
                                sizing_mode="stretch_width")
        from fedimpute.plots import r2_by_maf, well_imputed_by_maf

        chromosomes = pd.DataFrame([[c["chromosome"], f"{c['n']:,}", f"{c['mean_r2']:.3f}"]
                                    for c in self.quality["chromosomes"]], columns=["chromosome", "variants",
                                                                                     "mean R²"])
        return pn.Column(
            pn.pane.HTML(f"<b>Imputation quality</b>: {self.quality['variants']:,} variants (R² estimated by "
                         "the service)"),
            pn.Row(_fit(r2_by_maf(self.quality)), _fit(well_imputed_by_maf(self.quality, threshold=0.8)),
                   sizing_mode="stretch_width"),
            pn.Row(make_table(bin_rows(self.quality), sizing_mode="fixed", width=440),
                   make_table(chromosomes, sizing_mode="fixed", width=240)),
            sizing_mode="stretch_width",
        )

    def __panel__(self):
        return pn.panel(self._view, sizing_mode="stretch_width")
