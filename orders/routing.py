"""Routing: choose the sources that fill an order, with priorities as small pure strategies evaluated top-down.

Nothing here touches the database. Selectors build the inputs (``OrderNeeds``, ``SourceCandidate``,
``RoutingPolicy``); ``route`` returns a ``Decision`` that services store on each FR as JSON.

How an order is routed:

1. Every source that can fill the whole order from available stock is a single-FR option. The group's
   priorities narrow the options top-down; ties fall through to the next priority. With split-when-cheaper
   allowed, a split across sources replaces the winner when it costs less in total.
2. When no source fills the order alone and splitting is allowed, lines go whole to the sources covering
   the most remaining lines; a line no source can fill alone is split by quantity.
3. Sources that allow backorders take what is left, beyond their stock: they are only the fallback.
4. Whatever nothing can take is reported as unrouted, with the reason.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

ZERO = Decimal("0")

SINGLE_FR_REQUIRED = "single_fr_required"
SINGLE_FR_PREFERRED = "single_fr_preferred"
LOWEST_COST = "lowest_cost"
SOURCE_PRIORITY = "source_priority"
HAS_SHIPPING_MAP = "has_shipping_map"

DEFAULT_CHAIN = (SINGLE_FR_PREFERRED, LOWEST_COST, SOURCE_PRIORITY)


# ---------------------------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class LineNeed:
    """Units of one order line still to route."""

    order_line_id: int
    master_sku: str
    quantity: int


@dataclass(frozen=True)
class OrderNeeds:
    order_id: int
    lines: tuple[LineNeed, ...]
    shipping_method: str = ""


@dataclass(frozen=True)
class Offer:
    """One source's variant for one order line, as routing sees it."""

    variant_id: int
    sku: str
    available: int  # quantity − committed − the source's buffer, never below 0; 0 when the stock is stale
    unit_cost: Decimal  # item cost + dropship fee
    weight: Decimal = ZERO  # per unit; 0 when unknown
    stock_age_hours: float | None = None


@dataclass(frozen=True)
class ShippingRate:
    """A source's estimated shipping per FR: per-weight tiers when it has them, else a flat cost."""

    flat_cost: Decimal = ZERO
    weight_tiers: tuple[tuple[Decimal, Decimal], ...] = ()  # (up to weight, cost), ascending

    def estimate(self, weight: Decimal) -> Decimal:
        if not self.weight_tiers:
            return self.flat_cost
        for up_to, cost in self.weight_tiers:
            if weight <= up_to:
                return cost
        return self.weight_tiers[-1][1]


@dataclass(frozen=True)
class SourceCandidate:
    source_id: int
    name: str
    priority: int
    offers: Mapping[int, Offer]  # order_line_id → this source's best variant for that line
    shipping: ShippingRate = ShippingRate()
    has_shipping_map: bool = True
    allow_backorders: bool = False


@dataclass(frozen=True)
class RoutingPolicy:
    group_id: int | None
    group_name: str
    chain: tuple[str, ...] = DEFAULT_CHAIN
    allow_split: bool = True
    allow_split_when_cheaper: bool = False

    @property
    def split_allowed(self) -> bool:
        return self.allow_split and SINGLE_FR_REQUIRED not in self.chain


# ---------------------------------------------------------------------------------------------- plans


@dataclass(frozen=True)
class Allocation:
    order_line_id: int
    variant_id: int
    sku: str
    quantity: int
    unit_cost: Decimal
    weight: Decimal = ZERO
    backordered: int = 0  # units beyond the source's available stock (backorder sources only)


@dataclass(frozen=True)
class SourcePlan:
    """What one source would ship: one FR."""

    candidate: SourceCandidate
    allocations: tuple[Allocation, ...]

    @property
    def items_cost(self) -> Decimal:
        return sum((a.unit_cost * a.quantity for a in self.allocations), ZERO)

    @property
    def weight(self) -> Decimal:
        return sum((a.weight * a.quantity for a in self.allocations), ZERO)

    @property
    def shipping(self) -> Decimal:
        return self.candidate.shipping.estimate(self.weight)

    @property
    def total(self) -> Decimal:
        return self.items_cost + self.shipping


@dataclass(frozen=True)
class PlanOption:
    """One way to fill the order: one FR per part."""

    parts: tuple[SourcePlan, ...]

    @property
    def fr_count(self) -> int:
        return len(self.parts)

    @property
    def total(self) -> Decimal:
        return sum((p.total for p in self.parts), ZERO)

    @property
    def priorities(self) -> tuple[int, ...]:
        return tuple(sorted(p.candidate.priority for p in self.parts))

    @property
    def source_ids(self) -> tuple[int, ...]:
        return tuple(sorted(p.candidate.source_id for p in self.parts))

    @property
    def all_have_shipping_map(self) -> bool:
        return all(p.candidate.has_shipping_map for p in self.parts)

    @property
    def label(self) -> str:
        return " + ".join(p.candidate.name for p in self.parts)


# ---------------------------------------------------------------------------------------------- strategies

Strategy = Callable[[list[PlanOption]], list[PlanOption]]


def _keep_min(options: list[PlanOption], key) -> list[PlanOption]:
    best = min(key(o) for o in options)
    return [o for o in options if key(o) == best]


def single_fr_required(options: list[PlanOption]) -> list[PlanOption]:
    """Only one-FR options; none left means the order cannot be routed."""
    return [o for o in options if o.fr_count == 1]


def single_fr_preferred(options: list[PlanOption]) -> list[PlanOption]:
    """The options with the fewest FRs."""
    return _keep_min(options, lambda o: o.fr_count)


def lowest_cost(options: list[PlanOption]) -> list[PlanOption]:
    """The options with the lowest item cost + dropship fee + estimated shipping."""
    return _keep_min(options, lambda o: o.total)


def source_priority(options: list[PlanOption]) -> list[PlanOption]:
    """The options whose sources rank best (lower priority number wins)."""
    return _keep_min(options, lambda o: o.priorities)


def has_shipping_map(options: list[PlanOption]) -> list[PlanOption]:
    """The options whose every source maps the requested shipping method; all of them if none does."""
    mapped = [o for o in options if o.all_have_shipping_map]
    return mapped or options


STRATEGIES: dict[str, Strategy] = {
    SINGLE_FR_REQUIRED: single_fr_required,
    SINGLE_FR_PREFERRED: single_fr_preferred,
    LOWEST_COST: lowest_cost,
    SOURCE_PRIORITY: source_priority,
    HAS_SHIPPING_MAP: has_shipping_map,
}


@dataclass
class Evaluation:
    kept: list[PlanOption]
    rule: str  # the priority that left one option, "tie_break", "only_option", or the one that left none
    steps: list[dict] = field(default_factory=list)


def evaluate(options: list[PlanOption], chain: Iterable[str]) -> Evaluation:
    """Narrow ``options`` by each priority in turn; ties fall through; a remaining tie goes to the lowest ids."""
    if len(options) == 1:
        return Evaluation(options, "only_option", [])
    steps: list[dict] = []
    for name in chain:
        kept = STRATEGIES[name](options)
        steps.append({"rule": name, "kept": [o.label for o in kept]})
        if not kept:
            return Evaluation([], name, steps)
        options = kept
        if len(options) == 1:
            return Evaluation(options, name, steps)
    options = sorted(options, key=lambda o: o.source_ids)[:1]
    steps.append({"rule": "tie_break", "kept": [options[0].label]})
    return Evaluation(options, "tie_break", steps)


# ---------------------------------------------------------------------------------------------- decision


@dataclass(frozen=True)
class Unrouted:
    order_line_id: int
    master_sku: str
    quantity: int
    reason: str  # insufficient_stock | single_fr_required


@dataclass
class Decision:
    policy: RoutingPolicy
    rule: str
    explanation: str
    parts: tuple[SourcePlan, ...]
    candidates: tuple[SourceCandidate, ...]
    needs: OrderNeeds
    unrouted: tuple[Unrouted, ...] = ()
    steps: list[dict] = field(default_factory=list)
    split: bool = False
    backorder: bool = False

    def to_json(self) -> dict:
        """The decision as JSON-safe data (money as strings), for ``FulfillmentRequest.routing_decision``."""
        return {
            "version": 1,
            "group": self.policy.group_name,
            "priorities": list(self.policy.chain),
            "rule": self.rule,
            "explanation": self.explanation,
            "split": self.split,
            "backorder": self.backorder,
            "steps": self.steps,
            "assignment": [_part_json(p) for p in self.parts],
            "candidates": [_candidate_json(c, self.needs) for c in self.candidates],
            "unrouted": [
                {"order_line_id": u.order_line_id, "master_sku": u.master_sku, "quantity": u.quantity}
                | {"reason": u.reason}
                for u in self.unrouted
            ],
        }


def _money(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.0001")))


def _part_json(part: SourcePlan) -> dict:
    return {
        "source_id": part.candidate.source_id,
        "source": part.candidate.name,
        "items_cost": _money(part.items_cost),
        "shipping": _money(part.shipping),
        "total": _money(part.total),
        "lines": [
            {
                "order_line_id": a.order_line_id,
                "variant_id": a.variant_id,
                "sku": a.sku,
                "quantity": a.quantity,
                "unit_cost": _money(a.unit_cost),
                "backordered": a.backordered,
            }
            for a in part.allocations
        ],
    }


def _candidate_json(candidate: SourceCandidate, needs: OrderNeeds) -> dict:
    whole = _fill_whole(candidate, needs.lines, {})
    data = {
        "source_id": candidate.source_id,
        "source": candidate.name,
        "priority": candidate.priority,
        "has_shipping_map": candidate.has_shipping_map,
        "allow_backorders": candidate.allow_backorders,
        "can_fill_order": whole is not None,
        "offers": {
            str(line_id): {"variant_id": o.variant_id, "available": o.available, "unit_cost": _money(o.unit_cost)}
            for line_id, o in candidate.offers.items()
        },
    }
    if whole is not None:
        plan = SourcePlan(candidate, tuple(whole))
        data.update(items_cost=_money(plan.items_cost), shipping=_money(plan.shipping), total=_money(plan.total))
    return data


# ---------------------------------------------------------------------------------------------- routing


def best_offer(offers: Iterable[Offer], quantity: int) -> Offer:
    """Of one source's variants for a line: one that fills it, then the cheapest, then the most stock."""
    return min(offers, key=lambda o: (o.available < quantity, o.unit_cost, -o.available, o.variant_id))


def _fill_whole(
    candidate: SourceCandidate, lines: Iterable[LineNeed], used: Mapping[int, int]
) -> list[Allocation] | None:
    """Allocations filling every line wholly from available stock, or None; ``used`` is stock already taken."""
    taken: dict[int, int] = {}
    allocations = []
    for line in lines:
        offer = candidate.offers.get(line.order_line_id)
        if offer is None:
            return None
        already = used.get(offer.variant_id, 0) + taken.get(offer.variant_id, 0)
        if offer.available - already < line.quantity:
            return None
        taken[offer.variant_id] = taken.get(offer.variant_id, 0) + line.quantity
        allocations.append(_allocation(line.order_line_id, offer, line.quantity))
    return allocations


def _allocation(order_line_id: int, offer: Offer, quantity: int, backordered: int = 0) -> Allocation:
    return Allocation(order_line_id, offer.variant_id, offer.sku, quantity, offer.unit_cost, offer.weight, backordered)


class _Builder:
    """Accumulates allocations per source while a split or fallback plan is built."""

    def __init__(self, needs: OrderNeeds):
        self.remaining = {line.order_line_id: line.quantity for line in needs.lines}
        self.used: dict[int, int] = {}
        self.parts: dict[int, list[Allocation]] = {}
        self.candidates: dict[int, SourceCandidate] = {}

    def add(self, candidate: SourceCandidate, allocation: Allocation) -> None:
        self.candidates[candidate.source_id] = candidate
        self.parts.setdefault(candidate.source_id, []).append(allocation)
        self.used[allocation.variant_id] = self.used.get(allocation.variant_id, 0) + allocation.quantity
        self.remaining[allocation.order_line_id] -= allocation.quantity

    def free(self, offer: Offer) -> int:
        return max(0, offer.available - self.used.get(offer.variant_id, 0))

    def option(self) -> PlanOption:
        return PlanOption(
            tuple(SourcePlan(self.candidates[sid], tuple(allocs)) for sid, allocs in sorted(self.parts.items()))
        )


def _rank(candidates: list[SourceCandidate], chain: tuple[str, ...], line_id: int, quantity: int, b: _Builder):
    """Candidates in the order to draw stock for one line: sources already used first, then by the chain."""

    def key(c: SourceCandidate):
        offer = c.offers[line_id]
        ordering = []
        for name in chain:
            if name in (SINGLE_FR_PREFERRED, SINGLE_FR_REQUIRED):
                ordering.append(c.source_id not in b.parts)
            elif name == LOWEST_COST:
                ordering.append(offer.unit_cost)
            elif name == SOURCE_PRIORITY:
                ordering.append(c.priority)
            elif name == HAS_SHIPPING_MAP:
                ordering.append(not c.has_shipping_map)
        return (*ordering, c.source_id)

    return sorted((c for c in candidates if line_id in c.offers), key=key)


def _split(needs: OrderNeeds, stocked: list[SourceCandidate], policy: RoutingPolicy) -> _Builder:
    """Whole lines to the sources covering most remaining lines, then lines nobody fills alone by quantity."""
    b = _Builder(needs)
    lines = {line.order_line_id: line for line in needs.lines}
    while True:
        open_lines = [lines[i] for i, q in b.remaining.items() if q == lines[i].quantity and q > 0]
        partials = []
        for c in stocked:
            taken: dict[int, int] = {}
            allocs = []
            for line in open_lines:
                offer = c.offers.get(line.order_line_id)
                if offer and b.free(offer) - taken.get(offer.variant_id, 0) >= line.quantity:
                    taken[offer.variant_id] = taken.get(offer.variant_id, 0) + line.quantity
                    allocs.append(_allocation(line.order_line_id, offer, line.quantity))
            if allocs:
                partials.append(PlanOption((SourcePlan(c, tuple(allocs)),)))
        if not partials:
            break
        most = max(len(p.parts[0].allocations) for p in partials)
        chosen = evaluate([p for p in partials if len(p.parts[0].allocations) == most], policy.chain).kept[0]
        for allocation in chosen.parts[0].allocations:
            b.add(chosen.parts[0].candidate, allocation)
    for line in needs.lines:
        for c in _rank(stocked, policy.chain, line.order_line_id, line.quantity, b):
            need = b.remaining[line.order_line_id]
            if need <= 0:
                break
            offer = c.offers[line.order_line_id]
            take = min(need, b.free(offer))
            if take > 0:
                b.add(c, _allocation(line.order_line_id, offer, take))
    return b


def _cheapest_split(needs: OrderNeeds, stocked: list[SourceCandidate]) -> PlanOption | None:
    """Each line wholly to the source with the lowest unit cost that can fill it; None if a line cannot be."""
    b = _Builder(needs)
    for line in needs.lines:
        fits = [c for c in stocked if line.order_line_id in c.offers]
        fits = [c for c in fits if b.free(c.offers[line.order_line_id]) >= line.quantity]
        if not fits:
            return None
        c = min(fits, key=lambda c: (c.offers[line.order_line_id].unit_cost, c.priority, c.source_id))
        b.add(c, _allocation(line.order_line_id, c.offers[line.order_line_id], line.quantity))
    return b.option()


def _backorder_single_options(needs: OrderNeeds, backorder: list[SourceCandidate]) -> list[PlanOption]:
    options = []
    for c in backorder:
        if all(line.order_line_id in c.offers for line in needs.lines):
            b = _Builder(needs)
            for line in needs.lines:
                _take_with_backorder(b, c, line.order_line_id, line.quantity)
            options.append(b.option())
    return options


def _take_with_backorder(b: _Builder, c: SourceCandidate, line_id: int, quantity: int) -> None:
    offer = c.offers[line_id]
    from_stock = min(quantity, b.free(offer))
    b.add(c, _allocation(line_id, offer, quantity, backordered=quantity - from_stock))


def route(needs: OrderNeeds, candidates: Iterable[SourceCandidate], policy: RoutingPolicy) -> Decision:
    """Decide which sources fill ``needs``; pure: the same inputs always give the same decision."""
    candidates = tuple(sorted(candidates, key=lambda c: c.source_id))
    lines = tuple(line for line in needs.lines if line.quantity > 0)
    needs = OrderNeeds(needs.order_id, lines, needs.shipping_method)

    def decision(rule, explanation, option=None, unrouted=(), steps=None, split=False, backorder=False):
        parts = option.parts if option else ()
        return Decision(
            policy, rule, explanation, parts, candidates, needs, tuple(unrouted), steps or [], split, backorder
        )

    if not lines:
        return decision("nothing_to_route", "Every line is already on a live FR.")

    singles = [PlanOption((SourcePlan(c, tuple(a)),)) for c in candidates if (a := _fill_whole(c, lines, {}))]
    if singles:
        ev = evaluate(singles, policy.chain)
        if ev.kept:
            winner = ev.kept[0]
            if policy.allow_split_when_cheaper and policy.split_allowed:
                cheap = _cheapest_split(needs, list(candidates))
                if cheap and cheap.fr_count > 1 and cheap.total < winner.total:
                    return decision(
                        "split_when_cheaper",
                        f"Split across {cheap.label} costs {_money(cheap.total)}, less than {_money(winner.total)} "
                        f"at {winner.label}; the group allows splitting when cheaper.",
                        cheap,
                        steps=ev.steps,
                        split=True,
                    )
            return decision(ev.rule, _explain(ev, winner, len(singles)), winner, steps=ev.steps)

    backorder = [c for c in candidates if c.allow_backorders]
    if not policy.split_allowed:
        options = _backorder_single_options(needs, backorder)
        ev = evaluate(options, policy.chain) if options else None
        if ev and ev.kept:
            winner = ev.kept[0]
            return decision(
                ev.rule,
                f"No source has stock for the whole order; {winner.label} takes it as a backorder (fallback). "
                + _explain(ev, winner, len(options)),
                winner,
                steps=ev.steps,
                backorder=True,
            )
        reason = SINGLE_FR_REQUIRED if SINGLE_FR_REQUIRED in policy.chain else "insufficient_stock"
        return decision(
            reason,
            "No single source can fill the whole order and splitting is not allowed.",
            unrouted=[Unrouted(line.order_line_id, line.master_sku, line.quantity, reason) for line in lines],
        )

    b = _split(needs, list(candidates), policy)
    used_backorder = False
    for line in lines:
        need = b.remaining[line.order_line_id]
        if need > 0:
            ranked = _rank(backorder, policy.chain, line.order_line_id, need, b)
            if ranked:
                _take_with_backorder(b, ranked[0], line.order_line_id, need)
                used_backorder = True
    unrouted = [
        Unrouted(line.order_line_id, line.master_sku, b.remaining[line.order_line_id], "insufficient_stock")
        for line in lines
        if b.remaining[line.order_line_id] > 0
    ]
    option = b.option()
    if not option.parts:
        return decision("insufficient_stock", "No source has stock for any line.", unrouted=unrouted)
    explanation = f"No single source can fill the whole order; split across {option.label}."
    if used_backorder:
        explanation += " Backorder sources take what no source has in stock (fallback)."
    if unrouted:
        explanation += f" {len(unrouted)} line(s) could not be (fully) routed."
    return decision(
        "split", explanation, option, unrouted=unrouted, split=option.fr_count > 1, backorder=used_backorder
    )


def _explain(ev: Evaluation, winner: PlanOption, count: int) -> str:
    total = _money(winner.total)
    if ev.rule == "only_option":
        return f"{winner.label} is the only source that can fill the whole order ({total})."
    reasons = {
        SINGLE_FR_REQUIRED: "it is the only one that fills the order in one FR",
        SINGLE_FR_PREFERRED: "it fills the order in one FR",
        LOWEST_COST: f"it is the cheapest at {total} (item cost + dropship fee + estimated shipping)",
        SOURCE_PRIORITY: f"it has the best source priority ({winner.priorities[0]})",
        HAS_SHIPPING_MAP: "it maps the requested shipping method",
        "tie_break": "the priorities tied, so the lowest source id won",
    }
    return f"{count} sources can fill the whole order; {winner.label} won because {reasons[ev.rule]}."
