"""Distributed Map: item readers, batching, child executions, map runs and result writers.

A ``Map`` whose ``ItemProcessor.ProcessorConfig.Mode`` is ``DISTRIBUTED`` runs
each item (or batch of items) as a child execution of its own, grouped in a map
run. The pieces, one construct each:

- ``objects``: the object store the readers and writers use (a local folder per bucket);
- ``item_reader`` / ``formats``: where items come from (a listing, a JSON/JSONL/CSV object, an
  inventory manifest), streamed, never held whole;
- ``batcher``: ``ItemBatcher`` (items and bytes per batch, ``BatchInput``);
- ``map_run``: the map run record (ARNs, counts, tolerated failures) DescribeMapRun shows;
- ``children``: one child execution (Standard: its history kept; Express: none);
- ``result_writer``: ``ResultWriter`` (``manifest.json`` and the result files).
"""
