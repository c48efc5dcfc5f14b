"""The resource tables Android loads together for one APK of a split set or one bundle module.

Android parses every APK of an app with one ``AssetManager`` holding several tables
(frameworks/base ``com.android.internal.pm.split``):

* ``DefaultSplitAssetLoader`` (the default): the base APK and **every** split APK being
  installed, for the base manifest and for each split's (``getSplitAssetManager`` returns
  the base's one manager);
* ``SplitAssetDependencyLoader``, when the base manifest sets ``android:isolatedSplits``:
  a feature split sees its own table, its parent's (the first ``<uses-split
  android:name>`` of its manifest, as ``ApkLiteParseUtils`` keeps only the first), the
  parent's parent and so on up to the base; config splits join the split they configure
  (``configForSplit``).

Resource ids do not clash between the tables of one app: the Android Gradle plugin gives
each feature module its own package id (``FeatureSetMetadata``: 0x7e, 0x7d, ... below API
26, 0x80, 0x81, ... from it; the base keeps 0x7f) and bundletool refuses a bundle in which
two modules define the same resource id (``ResourceTableValidator``). So a reference is
answered by the first table, in the order above (the APK's own first), that has the entry,
together with the config splits that have it too: a config split repeats the package id of
the split it configures and adds configurations to its entries (``values-ru``), and
Android picks the best configuration across the tables of one package id.

``TableSet`` is that search, behind the ``resources.Table`` protocol: tables are read on
first need (``TableCache``), a missing or unreadable one is named in the reason a
reference stays unresolved, and string handles are kept apart per table.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from itertools import islice

from permaudit._infra.records import replace
from permaudit.android.attributes import ANDROID_NS
from permaudit.inputs.binary.arsc import TYPE_STRING, Candidate
from permaudit.inputs.binary.xmltree import Element
from permaudit.inputs.resources import Table

#: A table as read: the table, ``None`` when the APK or module has none, or why it cannot
#: be read.
Loaded = Table | str | None
#: Tables named in a reason before "and N more".
NAMED = 4
#: Tables one search visits at most: a package id is one byte, so an app whose resource
#: ids do not clash has at most 256 tables worth searching.
MAX_TABLES = 256


class TableCache:
    """Each table read once, on first need, by its loader (module or split name -> loader)."""

    def __init__(self, loaders: Mapping[str, Callable[[], Loaded]],
                 labels: Mapping[str, str]) -> None:
        self._loaders = dict(loaders)
        #: what a reason calls each table (``runtime/resources.pb``, ``split_x.apk``)
        self.labels = dict(labels)
        self._loaded: dict[str, Loaded] = {}

    def get(self, name: str) -> Loaded:
        """The table of ``name`` (read now if not yet read)."""
        if name not in self._loaded:
            loader = self._loaders.get(name)
            self._loaded[name] = loader() if loader is not None else None
        return self._loaded[name]

    def seen(self, name: str) -> bool:
        """Whether ``name``'s table has been read."""
        return name in self._loaded


class TableSet:
    """The tables of ``order`` searched in turn: the first with the entry answers, with the
    values the config splits add to it."""

    def __init__(self, cache: TableCache, order: Sequence[str],
                 configs: Collection[str] = ()) -> None:
        self._cache = cache
        self._order = tuple(dict.fromkeys(order))
        #: the config splits among ``order``: they add configurations to an entry
        self._configs = frozenset(configs)
        #: (position in ``order``, that table's string handle) of each handle given out
        self._strings: list[tuple[int, int]] = []
        self._handles: dict[tuple[int, int], int] = {}

    @property
    def NAME(self) -> str:
        """The tables searched, for reasons: ``runtime/resources.pb, base/resources.pb``,
        with those that are missing or unreadable said so."""
        parts = []
        for name in self._order:
            label = self._cache.labels.get(name, name)
            table = self._cache.get(name) if self._cache.seen(name) else None
            if isinstance(table, str):
                parts.append(f"{label} ({table})")
            elif self._cache.seen(name) and table is None:
                parts.append(f"{label} (none)")
            else:
                parts.append(label)
        more = len(parts) - NAMED
        return ", ".join(parts[:NAMED]) + (f" and {more} more" if more > 0 else "")

    def candidates(self, res_id: int) -> list[Candidate]:
        """The entry's values from the first table (in order) that has it, then from the
        config splits after it that have it too.

        A config split's table repeats its split's package id and holds the values of its
        configuration only (``values-ru`` in ``config.ru.apk``); AssetManager2 puts the
        tables of one package id in one group and picks the best configuration across
        them, the first loaded on a tie. Other tables cannot add values: a feature has its
        own package id, and ids do not clash (see the module). So only config splits are
        searched past the first answer, and the caller's pick sees what Android's sees.
        """
        merged: list[Candidate] = []
        for position, name in enumerate(self._order):
            if merged and name not in self._configs:
                continue
            table = self._cache.get(name)
            if table is None or isinstance(table, str):
                continue
            merged.extend(self._own(position, c) for c in table.candidates(res_id))
        return merged

    def _own(self, position: int, candidate: Candidate) -> Candidate:
        value = candidate.value
        if value is None or value.data_type != TYPE_STRING:
            return candidate
        key = (position, value.data)
        handle = self._handles.get(key)
        if handle is None:
            handle = self._handles[key] = len(self._strings)
            self._strings.append(key)
        return replace(candidate, value=replace(value, data=handle))

    def string(self, index: int) -> str | None:
        """The string of a handle this set gave out (None: a bad string)."""
        if not 0 <= index < len(self._strings):
            return None
        position, own = self._strings[index]
        table = self._cache.get(self._order[position])
        return None if table is None or isinstance(table, str) else table.string(own)


def uses_split(root: Element) -> str | None:
    """The first ``<uses-split android:name>`` of a split manifest: ``ApkLiteParseUtils``
    keeps only it, and reads the attribute by name in the android namespace."""
    for child in root.children:
        if child.tag == "uses-split":
            name = child.by_name("name", ANDROID_NS)
            return name.coerce_to_string() if name is not None else None
    return None


def isolated_splits(base_root: Element) -> bool:
    """``android:isolatedSplits`` on the base ``<manifest>``, read as ``ApkLiteParseUtils``
    does: by name in the android namespace, ``getAttributeBooleanValue`` (an int-typed
    value, nonzero; anything else, e.g. a reference, is false)."""
    attribute = base_root.by_name("isolatedSplits", ANDROID_NS)
    return attribute is not None and attribute.value.is_int and attribute.value.data != 0


def search_order(
    name: str, *, base: str, parents: Mapping[str, str | None], isolated: bool,
    configures: Mapping[str, str | None] | None = None, others: Sequence[str] | None = None,
) -> list[str]:
    """The tables (by split name) Android loads for split ``name``'s manifest, own first.

    ``parents``: each split's ``uses_split``; ``configures``: each config split's
    ``configForSplit`` (``None`` or empty: the base); ``others``: the splits that come
    after the base (default: every split of ``parents`` but the base, sorted; pass it
    computed once when calling for every split of a large set). Bounded: at most
    ``MAX_TABLES`` names, and a chain visits each split at most once (a cycle, which
    Android refuses to install, ends it).
    """
    if others is None:
        others = sorted(n for n in parents if n != base)
    chain = [] if name == base else [name]
    seen = {name, base}
    parent = parents.get(name) if name != base else None
    while parent and parent in parents and parent not in seen and len(chain) < MAX_TABLES - 1:
        chain.append(parent)
        seen.add(parent)
        parent = parents.get(parent)
    features = [*chain, base]
    room = MAX_TABLES - len(features)
    if not isolated:
        return [*features, *islice((n for n in others if n not in seen), room)]
    if not configures:
        return features
    configs = (n for n in others
               if n in configures and n not in seen and (configures[n] or base) in features)
    return [*features, *islice(configs, room)]
