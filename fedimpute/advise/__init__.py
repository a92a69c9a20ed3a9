"""The panel advisor: which service and reference panel suit a cohort, before any imputation runs.

    >>> from fedimpute.advise import advise, register_sites          # doctest: +SKIP
    >>> advice = advise(["chr20.vcf.gz"], population="eur")        # doctest: +SKIP
    >>> [(r.service, r.panel_id, r.expected_r2) for r in advice.ranking]   # doctest: +SKIP
    >>> print(advice.submit_command())                             # doctest: +SKIP

Local evidence (overlap per chromosome and 20 Mb chunk, strand flips, allele switches, allele
frequency concordance) comes from one streaming pass over the cohort and the panels' sites known
here; remote evidence from QC-only jobs on Cloudgene servers.  See :mod:`.advisor` for the flow,
:mod:`.compare` for the definitions and :mod:`.expected` for the calibrated expected R².
"""

from __future__ import annotations

from fedimpute.advise.advisor import advise, advise_async, find_candidates
from fedimpute.advise.ranking import Advice, Recommendation
from fedimpute.advise.registry import Candidate, register_sites, registered_sites

__all__ = ["Advice", "Candidate", "Recommendation", "advise", "advise_async", "find_candidates", "register_sites",
           "registered_sites"]
