"""The synthetic world: companies, persons, screening lists and shipments with ground truth.

``world.generate.generate_world(out, seed=..., entities=..., shipments=...)`` writes a world directory
(docs/ARCHITECTURE.md "A world directory"); ``world.report.realism_report(dir)`` summarises it.

How the world is built (one ``numpy.random.Generator(PCG64(seed))``, fixed calendar 2021-01-01 ..
2026-10-31, identical bytes for identical arguments):

* :mod:`world.population`: ordinary companies in 70 countries (exporters, importers, hub distributors,
  forwarders, registered-agent tenants, new companies, banks, research institutes) with persons as
  owners/directors; listed parties on four lists (``world-eu-annex-iv``, ``world-entity-list``,
  ``world-mieu``, ``world-1260h``) with parents, majority-owned subsidiaries and minority stakes; and the
  vehicles of the schemes (fronts sharing a phone/address/director/e-mail with a listed patron, shells at
  formation-agent addresses, forwarders, new traders, split traders, third-country payers).
* :mod:`world.scenarios` / :mod:`world.shipments`: every shipment is an honest archetype or one of nine
  illicit schemes (base rate 2 %). A scheme is a conjunction of signals that are each common in honest
  traffic; hard negatives (``truth.negative_kind``) show the same signals in other combinations.
* :mod:`world.flags` / :mod:`world.report`: simple checklist red flags and the realism report.
"""
