"""caviar's train/dev split (worker/trainer/data.cc SplitTrainDev) in Python,
so a peer trains and evaluates on exactly caviar's examples: std::mt19937_64
seeded with split_seed, a Fisher-Yates shuffle drawing unbiased integers by
rejection (worker/trainer/random.h), the first dev_size shuffled indices are
the dev set, the rest (in file order) the training set."""

_MASK = (1 << 64) - 1


class Mt19937_64:
    """std::mt19937_64: the C++ standard fixes its every output for a seed."""

    def __init__(self, seed):
        self.mt = [0] * 312
        self.mt[0] = seed & _MASK
        for i in range(1, 312):
            prev = self.mt[i - 1]
            self.mt[i] = (6364136223846793005 * (prev ^ (prev >> 62)) + i) & _MASK
        self.index = 312

    def _twist(self):
        mt = self.mt
        for i in range(312):
            x = (mt[i] & 0xFFFFFFFF80000000) | (mt[(i + 1) % 312] & 0x7FFFFFFF)
            xa = x >> 1
            if x & 1:
                xa ^= 0xB5026F5AA96619E9
            mt[i] = mt[(i + 156) % 312] ^ xa
        self.index = 0

    def __call__(self):
        if self.index >= 312:
            self._twist()
        y = self.mt[self.index]
        self.index += 1
        y ^= (y >> 29) & 0x5555555555555555
        y ^= (y << 17) & 0x71D67FFFEDA60000
        y ^= (y << 37) & 0xFFF7EEE000000000
        y ^= y >> 43
        return y & _MASK


def _below(engine, n):
    limit = _MASK - _MASK % n
    while True:
        r = engine()
        if r < limit:
            return r % n


def train_dev_indices(size, dev_size, seed):
    """(train, dev): lists of example indices into the training file."""
    order = list(range(size))
    engine = Mt19937_64(seed)
    for i in range(size, 1, -1):
        j = _below(engine, i)
        order[i - 1], order[j] = order[j], order[i - 1]
    dev_set = set(order[:dev_size])
    train = [j for j in range(size) if j not in dev_set]
    dev = [j for j in range(size) if j in dev_set]
    return train, dev


def _self_check():
    # The C++ standard's own check: the 10000th output of a default-seeded
    # std::mt19937_64 ([rand.predef]).
    engine = Mt19937_64(5489)
    for _ in range(9999):
        engine()
    assert engine() == 9981545732273789042


_self_check()
