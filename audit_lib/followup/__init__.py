"""After the report: audit sampling that concludes (plan, evaluate), and the follow-up of a run from its
filled-in workpaper (dispositions, signed beside the run).

sampling    sample size (Poisson, binomial, hypergeometric) and evaluation (Stringer, Poisson, binomial bounds)
workpaper   reading a filled workpaper back: every disposition checked against the run it belongs to
runner      ``audit followup``: dispositions -> report -> signature naming the run -> archive
"""
