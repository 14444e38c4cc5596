"""Many districts at once: the city or province report over district runs that verify.

select  which district runs a region report rests on (given, or the latest of each district in the archive),
        each verified before anything is read from it
data    what the region report shows, computed once: the district × check matrix from the runs' findings, the
        cross-district checks (EL07) over the packages the runs recorded, each input checked against its digest
sections  the report's HTML, Chinese, personal data masked
runner  ``audit region``: data -> notebook -> HTML -> workpaper -> signature naming the district attestations ->
        archive under <archive>/<year>/<region_code>/<run_id>/
"""
