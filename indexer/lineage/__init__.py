"""Pure lineage logic: no database, no I/O.

- :mod:`indexer.lineage.distribution`: the base distribution and release an ancestor chain ends on;
- :mod:`indexer.lineage.variants`: the variant (full, slim, alpine, windowsservercore,
  nanoserver) and C library of an image;
- :mod:`indexer.lineage.siblings`: which tags of a repository are variants of the same version;
- :mod:`indexer.lineage.graph`, :mod:`indexer.lineage.dot`, :mod:`indexer.lineage.mermaid`:
  the lineage as a graph, drawn as Graphviz DOT or Mermaid source;
- :mod:`indexer.lineage.history`: digest intervals of a tag and "what was it on date X".
"""
