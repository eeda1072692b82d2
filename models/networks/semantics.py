"""The label map S as G_I, G_L and D take it: the ids, or the same channels as a dense tensor.

`Semantics` holds the label ids (and the instance-edge map) and stands for the one-hot map
cat([one_hot(ids, num_classes), edge], 1) without building it: convolutions over it are table
lookups from the ids (`LabelConv2d`, label_conv.py). `DenseSemantics` holds those channels as a
tensor that is no longer one-hot (D's average-pooled scales); convolutions over it are plain ones.
Both have `channels`, `shape`, `dense_map(dtype)` and `pooled(pool, dtype)`, so a layer reads
either without asking which it has.

    sem = Semantics.from_label(data['label'], num_classes, edge)   # N×1×H×W ids, 0/1 edges or None
    sem.resize((h, w))       # nearest, as ids (cached: layers at one size share it)
    sem.pooled(avg_pool)     # a DenseSemantics of the pooled one-hot map
"""
import torch
import torch.nn.functional as F


class Semantics:
    """The label input as ids: stands for cat([one_hot(ids, num_classes), edge], 1).

    ids: N×1×H×W integer label ids in [0, num_classes) (the loaders and the Synthesizer check them:
    data.base_dataset.valid_ids); edge: N×1×H×W 0/1 map or None.
    Resized maps and the lookups' index tensors are cached on the object (`cached`), so build one
    per batch and pass it (or its resize(), which returns the same object for the same size) to
    every layer: the layers that read a map alike share the indexing work.
    """
    dense = False

    def __init__(self, ids, num_classes, edge=None):
        if ids.dim() == 3:
            ids = ids.unsqueeze(1)
        self.ids = ids.long()
        self.num_classes = int(num_classes)
        self.edge = None if edge is None else edge.float()
        self._resized, self._cache = {}, {}

    @classmethod
    def from_label(cls, label, num_classes, edge=None):
        """From the data dict's label tensor (N×1×H×W ids, any dtype) and optional edge map."""
        return cls(label.long(), num_classes, edge)

    @property
    def channels(self):
        """Channels of the dense map: C, plus 1 for the edge."""
        return self.num_classes + (self.edge is not None)

    @property
    def shape(self):
        """Shape of the dense map, N×channels×H×W."""
        n, _, h, w = self.ids.shape
        return torch.Size((n, self.channels, h, w))

    @property
    def device(self):
        return self.ids.device

    def __len__(self):
        return self.ids.shape[0]

    def to(self, device, non_blocking=False):
        edge = None if self.edge is None else self.edge.to(device, non_blocking=non_blocking)
        return Semantics(self.ids.to(device, non_blocking=non_blocking), self.num_classes, edge)

    def resize(self, size):
        """F.interpolate(one_hot, size, mode='nearest'), as ids (the same pixels are picked)."""
        size = (size, size) if isinstance(size, int) else tuple(size)
        if tuple(self.ids.shape[-2:]) == size:
            return self
        if size not in self._resized:
            maps = self.ids.float() if self.edge is None else torch.cat([self.ids.float(), self.edge], 1)
            maps = F.interpolate(maps, size=size, mode='nearest')
            edge = None if self.edge is None else maps[:, 1:]
            self._resized[size] = Semantics(maps[:, :1].long(), self.num_classes, edge)
        return self._resized[size]

    def one_hot(self, dtype=torch.float32):
        """The dense N×channels×H×W map (as Pix2PixModel.preprocess_input builds it)."""
        n, _, h, w = self.ids.shape
        out = torch.zeros(n, self.num_classes, h, w, dtype=dtype, device=self.device).scatter_(1, self.ids, 1)
        return out if self.edge is None else torch.cat([out, self.edge.to(dtype)], 1)

    def dense_map(self, dtype=torch.float32):
        return self.one_hot(dtype)

    def pooled(self, pool, dtype=torch.float32):
        """pool (a function of N×C×H×W tensors, e.g. D's average pooling) of the one-hot map: no
        longer one-hot, so a DenseSemantics."""
        return DenseSemantics(pool(self.one_hot(dtype)))

    @property
    def num_codes(self):
        """Z: a code per class, and one per (class, on an edge) if there is an edge map."""
        return 2 * self.num_classes if self.edge is not None else self.num_classes

    def codes(self):
        """N×H×W codes: the class id, + C where the edge is 1."""
        if self.edge is None:
            return self.ids[:, 0]
        return (self.ids + self.num_classes * self.edge.long())[:, 0]

    def cached(self, key, make):
        """make(), computed once per key for this label map (e.g. a lookup's index tensors)."""
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]


class DenseSemantics:
    """The label channels as a dense N×C×H×W tensor that is no longer one-hot (e.g. average-pooled):
    read by plain convolutions."""
    dense = True

    def __init__(self, maps):
        self.maps = maps

    @property
    def channels(self):
        return self.maps.shape[1]

    @property
    def shape(self):
        return self.maps.shape

    @property
    def device(self):
        return self.maps.device

    def __len__(self):
        return self.maps.shape[0]

    def dense_map(self, dtype=None):
        return self.maps if dtype is None else self.maps.to(dtype)

    def pooled(self, pool, dtype=None):
        return DenseSemantics(pool(self.dense_map(dtype)))
