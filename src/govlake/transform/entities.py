"""Entity master (主体库): one golden record per legal entity and per natural person.

Every reference to a party in a source table (a licence holder, a penalised party, a bidder, a
listed enterprise...) is resolved to an entity by the first rule that finds one, and the match
table keeps the source record, the role, the entity and the rule, so every match can be explained
(and corrected at the source). Enterprises come from the credit system's register:

1. ``uscc``: the reference's 统一社会信用代码 is a registered one;
2. ``org_code``: its 组织机构代码 (the USCC's 9th-17th characters, as older systems store it) is
   the organisation code of exactly one registered entity;
3. ``registration_number``: its 工商注册号 (the pre-2015 number; 个体工商户 without a USCC keep
   it) is a registered one;
4. ``name``: its name's match key (brackets half-width, no spaces: how other systems retype a
   name) is the key of exactly one registered entity's name. Stored names stay as written.

A reference none of these finds is still an entity when it carries a code of its own
(``unregistered_uscc``, ``unregistered_number``: e.g. a bidder from outside the city), and is
``unresolved`` otherwise. Natural persons are keyed by an HMAC of the ID number
(:func:`person_key`), so the warehouse can join on them without holding the number; the number
itself and the credit system's own person key stay in the ``restricted`` schema.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from functools import reduce

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from govlake import contracts
from govlake.identifiers import USCC_PLACEHOLDER

ENTERPRISE, PERSON = "enterprise", "person"
PERSON_TYPES = ("自然人",)  # 行政相对人类别 / 申请人类型 values that mean a natural person
ORG_CODE_TYPE, REG_NUMBER_TYPE = "组织机构代码", "工商注册号"  # transaction.bids' code types
ENTITY_RULES = ("uscc", "org_code", "registration_number", "name")  # in the order they are tried


@dataclass(frozen=True)
class PartyReference:
    """Where a source table names a party: the columns holding its identifiers (None: the table
    has no such column). ``person_when``: the column telling a natural person from an
    organisation (every row is an organisation without it, a person if ``role`` is a person
    role). ``code``/``code_type``: one column holding whichever code ``code_type`` names."""

    dataset: str
    role: str
    name: str | None = None
    uscc: str | None = None
    org_code: str | None = None
    reg_number: str | None = None
    id_number: str | None = None
    person_when: str | None = None
    code: str | None = None
    code_type: str | None = None
    person: bool = False  # the role is always a natural person (a legal representative...)


REFERENCES = (
    PartyReference(
        "approval.cases",
        "applicant",  # 申请人
        name="applicant_name",
        uscc="applicant_uscc",
        org_code="applicant_org_code",
        reg_number="applicant_reg_number",
        id_number="applicant_id_number",
        person_when="applicant_type",
    ),
    PartyReference(
        "approval.licence_decisions",
        "holder",  # 行政相对人
        name="holder_name",
        uscc="holder_uscc",
        reg_number="holder_reg_number",
        id_number="holder_id_number",
        person_when="holder_type",
    ),
    PartyReference(
        "approval.licence_decisions",
        "legal_rep",  # 法定代表人
        name="legal_rep_name",
        id_number="legal_rep_id_number",
        person=True,
    ),
    PartyReference(
        "enforcement.penalty_decisions",
        "party",  # 行政相对人
        name="party_name",
        uscc="party_uscc",
        org_code="party_org_code",
        reg_number="party_registration_number",
        id_number="party_id_number",
        person_when="party_type",
    ),
    PartyReference(
        "credit.enterprise_register",
        "legal_rep",
        name="legal_rep_name",
        id_number="legal_rep_id_number",
        person=True,
    ),
    *(
        PartyReference(dataset, "listed", name="enterprise_name", uscc="uscc")  # 列入名单的主体
        for dataset in (
            "credit.tax_credit_levels",
            "credit.abnormal_operations",
            "credit.serious_dishonesty",
        )
    ),
    PartyReference(
        "credit.dishonest_debtors",
        "debtor",  # 失信被执行人
        name="party_name",
        uscc="uscc",
        id_number="id_number",
        person_when="party_type",
    ),
    PartyReference("credit.credit_repairs", "repaired", uscc="uscc"),  # 信用修复的主体
    PartyReference(
        "transaction.projects", "tenderer", name="tenderer_name", uscc="tenderer_uscc"
    ),  # 招标人
    PartyReference(
        "transaction.bids",
        "bidder",  # 投标人
        name="bidder_name",
        code="bidder_code",
        code_type="bidder_code_type",
    ),
    PartyReference(
        "transaction.bids", "agent", name="agent_name", id_number="agent_id_number", person=True
    ),  # 投标代理人 (授权委托人)
    PartyReference("transaction.awards", "winner", name="winner_name", uscc="winner_uscc"),
)

NAME_SPACES = r"[\s\u3000]+"  # Java regex: white space, and the ideographic space
MATCH_COLUMNS = ("dataset", "source_key", "role", "entity_kind", "entity_id", "rule")


def person_key(secret: bytes, id_number: str) -> str:
    """A natural person's warehouse key: HMAC-SHA256 of the (normalised) ID number, 16 bytes in
    hex. Without the secret nobody can recompute it from a number."""
    return "P" + hmac.new(secret, id_number.encode(), hashlib.sha256).hexdigest()[:32]


def entity_of(matches: DataFrame, dataset: str, role: str, key: str) -> DataFrame:
    """A fact's party column: ``key`` (a table's integer primary key) -> ``<role>_entity_id``,
    the entity the match table resolved that role of ``dataset``'s row to."""
    found = matches.where((F.col("dataset") == dataset) & (F.col("role") == role))
    return found.select(
        F.col("source_key").cast("bigint").alias(key), F.col("entity_id").alias(f"{role}_entity_id")
    )


def match_key(name: Column) -> Column:
    """A name as other systems retype it, made comparable: brackets half-width, no spaces (the
    ideographic space U+3000 too: Java's ``\\s`` leaves it, Chinese input methods type it)."""
    return F.regexp_replace(F.translate(name, "（）", "()"), NAME_SPACES, "")


def _of(column: str | None) -> Column:
    return F.col(column).cast("string") if column else F.lit(None).cast("string")


def _none(name: str) -> Column:
    return F.lit(None).cast("string").alias(name)


def _party_rows(table: DataFrame, ref: PartyReference, key: str) -> DataFrame:
    """One row per source record naming a party in ``ref``'s columns, the identifiers renamed."""
    if ref.person:
        kind = F.lit(PERSON)
    elif ref.person_when:
        kind = F.when(F.col(ref.person_when).isin(*PERSON_TYPES), PERSON).otherwise(ENTERPRISE)
    else:
        kind = F.lit(ENTERPRISE)
    code_is = (lambda t: F.col(ref.code_type) == t) if ref.code else None
    uscc = _of(ref.uscc)
    org, reg = _of(ref.org_code), _of(ref.reg_number)
    if code_is is not None:
        other = ~code_is(ORG_CODE_TYPE) & ~code_is(REG_NUMBER_TYPE)
        uscc = F.when(other, F.col(ref.code))
        org = F.when(code_is(ORG_CODE_TYPE), F.col(ref.code))
        reg = F.when(code_is(REG_NUMBER_TYPE), F.col(ref.code))
    rows = table.select(
        F.lit(ref.dataset).alias("dataset"),
        F.col(key).cast("string").alias("source_key"),
        F.lit(ref.role).alias("role"),
        kind.alias("entity_kind"),
        _of(ref.name).alias("name"),
        F.when(uscc != USCC_PLACEHOLDER, uscc).alias("uscc"),
        F.regexp_replace(org, "-", "").alias("org_code"),
        reg.alias("reg_number"),
        _of(ref.id_number).alias("id_number"),
    )
    named = reduce(
        Column.__or__, [F.col(c).isNotNull() for c in ("name", "uscc", "org_code", "reg_number")]
    )
    return rows.where(named | F.col("id_number").isNotNull())


def references(tables: dict[str, DataFrame]) -> DataFrame:
    """Every party reference of the conformed ``tables`` (dataset -> latest versions), keyed by
    each table's primary key (its contract's)."""
    found = [
        _party_rows(tables[ref.dataset], ref, contracts.get(ref.dataset).primary_key[0])
        for ref in REFERENCES
        if ref.dataset in tables
    ]
    return reduce(DataFrame.unionByName, found)


def registered(register: DataFrame) -> DataFrame:
    """The golden enterprise records: the register's latest versions, keyed by USCC, or by the
    registration number where a 个体工商户 has no USCC (the placeholder 00000000000000000X)."""
    coded = F.col("uscc") != USCC_PLACEHOLDER
    rows = register.select(
        F.when(coded, F.concat(F.lit("E"), "uscc"))
        .otherwise(F.concat(F.lit("R"), "registration_number"))
        .alias("entity_id"),
        F.lit(ENTERPRISE).alias("entity_kind"),
        F.when(coded, F.col("uscc")).alias("uscc"),
        F.when(coded, F.substring("uscc", 9, 9)).alias("org_code"),
        F.col("registration_number").alias("registration_number"),
        F.col("name"),
        F.col("entity_type"),
        F.col("status"),
        F.col("enterprise_id").alias("register_id"),
        F.lit(True).alias("registered"),
    )
    return _first_per_entity(rows)


def _first_per_entity(rows: DataFrame) -> DataFrame:
    """One row per entity: a code registered twice (flagged as a business-key duplicate) is one
    entity, whose record is the row with the smallest register key, as the flag rule has it."""
    first = _first(rows, "entity_id", "register_id")
    return first.withColumn("register_id", F.col("register_id").cast("string"))


def _first(rows: DataFrame, group: str, *order: str) -> DataFrame:
    """The first row of each ``group`` by ``order``."""
    ranked = rows.withColumn("_n", F.row_number().over(Window.partitionBy(group).orderBy(*order)))
    return ranked.where("_n = 1").drop("_n")


def _unique(entities: DataFrame, column: Column, alias: str) -> DataFrame:
    """``column`` value -> entity, for values exactly one entity has."""
    keyed = entities.select(column.alias("k"), "entity_id").where(F.col("k").isNotNull())
    return (
        keyed.groupBy("k")
        .agg(F.count("*").alias("n"), F.first("entity_id").alias(alias))
        .where("n = 1")
        .drop("n")
    )


def resolve(refs: DataFrame, entities: DataFrame) -> DataFrame:
    """Each enterprise reference's entity and rule (the first of ``ENTITY_RULES`` that finds
    one), then the unregistered codes, else unresolved."""
    lookups = {
        "uscc": (_unique(entities, F.col("uscc"), "by_uscc"), F.col("uscc")),
        "org_code": (
            _unique(entities, F.col("org_code"), "by_org_code"),
            F.coalesce("org_code", F.substring("uscc", 9, 9)),
        ),
        "registration_number": (
            _unique(entities, F.col("registration_number"), "by_registration_number"),
            F.col("reg_number"),
        ),
        "name": (_unique(entities, match_key(F.col("name")), "by_name"), match_key(F.col("name"))),
    }
    out = refs
    for found, on in lookups.values():
        out = out.join(F.broadcast(found), on == found["k"], "left").drop("k")
    chosen = [(F.col(f"by_{rule}"), rule) for rule in ENTITY_RULES] + [
        (F.concat(F.lit("E"), "uscc"), "unregistered_uscc"),
        (F.concat(F.lit("R"), "reg_number"), "unregistered_number"),
    ]
    entity = F.coalesce(*[c for c, _ in chosen])
    rule = reduce(
        lambda acc, pair: acc.when(pair[0].isNotNull(), pair[1]),
        chosen[1:],
        F.when(chosen[0][0].isNotNull(), chosen[0][1]),
    ).otherwise("unresolved")
    return out.withColumn("entity_id", entity).withColumn("rule", rule)


def hmac_pads(secret: bytes) -> tuple[bytes, bytes]:
    """HMAC-SHA256's inner and outer pads of ``secret`` (RFC 2104: the key, hashed if longer
    than the 64-byte block, zero-padded to it, XOR 0x36 and XOR 0x5C), for the engines that
    spell HMAC out with their own SHA-256 (Spark here, DuckDB in govlake.reference)."""
    block = (hashlib.sha256(secret).digest() if len(secret) > 64 else secret).ljust(64, b"\0")
    inner, outer = (bytes(b ^ pad for b in block) for pad in (0x36, 0x5C))
    return inner, outer


def person_key_column(secret: bytes, id_number: Column) -> Column:
    """:func:`person_key` of ``id_number`` as a Spark column (null for no number), computed in
    the JVM: HMAC-SHA256 spelled out with Spark's ``sha2`` (RFC 2104: the key padded to the
    64-byte block, inner hash of key XOR ipad then the message, outer hash of key XOR opad then
    the inner digest), so no Python worker runs per row."""
    inner_pad, outer_pad = (bytearray(pad) for pad in hmac_pads(secret))
    inner = F.unhex(F.sha2(F.concat(F.lit(inner_pad), F.encode(id_number, "UTF-8")), 256))
    key = F.concat(F.lit("P"), F.substring(F.sha2(F.concat(F.lit(outer_pad), inner), 256), 1, 32))
    return F.when(id_number.isNotNull() & (id_number != ""), key)


def with_person_keys(rows: DataFrame, secret: bytes) -> DataFrame:
    """``rows`` with ``entity_id``: the :func:`person_key` of their ``id_number`` column."""
    return rows.withColumn("entity_id", person_key_column(secret, F.col("id_number")))


def people(persons: DataFrame, secret: bytes) -> DataFrame:
    """The golden person records: the credit system's persons (their ``person_id`` is its own
    person key), keyed by :func:`person_key`; ``id_number`` is for the restricted schema only."""
    rows = persons.select("person_id", "name", "id_number").where(F.col("id_number").isNotNull())
    keyed = with_person_keys(rows, secret).select(
        "entity_id",
        F.lit(PERSON).alias("entity_kind"),
        *[_none(c) for c in ("uscc", "org_code", "registration_number")],
        "name",
        *[_none(c) for c in ("entity_type", "status")],
        F.col("person_id").alias("register_id"),
        F.lit(True).alias("registered"),
        "id_number",
    )
    return _first_per_entity(keyed)


def match_table(refs: DataFrame, firms: DataFrame, persons: DataFrame, secret: bytes) -> DataFrame:
    """Every reference -> (entity, rule): enterprises by :func:`resolve` against the registered
    ``firms``; persons by ID number (``id_number`` if the credit system knows the person,
    ``unregistered_id_number`` if not)."""
    enterprises = resolve(refs.where(F.col("entity_kind") == ENTERPRISE), firms)
    known = persons.select("entity_id", F.lit(True).alias("_known"))
    people_refs = with_person_keys(refs.where(F.col("entity_kind") == PERSON), secret)
    rule = (
        F.when(F.col("entity_id").isNull(), "unresolved")
        .when(F.col("_known"), "id_number")
        .otherwise("unregistered_id_number")
    )
    matched = people_refs.join(F.broadcast(known), "entity_id", "left").withColumn("rule", rule)
    return enterprises.select(*MATCH_COLUMNS).unionByName(matched.select(*MATCH_COLUMNS))


def unregistered(refs: DataFrame, matches: DataFrame) -> DataFrame:
    """Entities only references know (a code of their own, not in a register): their golden
    record is the reference seen first (the smallest dataset, key and role), as written."""
    own = matches.where(F.col("rule").startswith("unregistered")).join(
        refs.select("dataset", "source_key", "role", "name", "uscc", "reg_number", "id_number"),
        ["dataset", "source_key", "role"],
    )
    return _first(own, "entity_id", "dataset", "source_key", "role").select(
        "entity_id",
        "entity_kind",
        "uscc",
        F.substring("uscc", 9, 9).alias("org_code"),
        F.col("reg_number").alias("registration_number"),
        "name",
        *[_none(c) for c in ("entity_type", "status", "register_id")],
        F.lit(False).alias("registered"),
        "id_number",
    )


ENTITY_COLUMNS = (
    "entity_id",
    "entity_kind",
    "uscc",
    "org_code",
    "registration_number",
    "name",
    "entity_type",
    "status",
    "register_id",
    "registered",
)


@dataclass(frozen=True)
class EntityMaster:
    entities: DataFrame  # core.entity: ENTITY_COLUMNS, one row per entity
    matches: DataFrame  # core.entity_match: MATCH_COLUMNS, one row per reference
    identities: DataFrame  # restricted.person_identity: entity_id, id_number, register_id


def entity_master(tables: dict[str, DataFrame], secret: bytes) -> EntityMaster:
    """The entity master from the conformed tables (dataset -> latest versions; the register
    and the persons among them)."""
    refs = references(tables).cache()  # read by the matches and the unregistered
    firms = registered(tables["credit.enterprise_register"])
    persons = people(tables["credit.persons"], secret)
    matches = match_table(refs, firms, persons, secret).cache()
    everyone = (
        firms.withColumn("id_number", F.lit(None).cast("string"))
        .unionByName(persons)
        .unionByName(unregistered(refs, matches))
    ).cache()  # the entities and the persons' identities are written from it
    return EntityMaster(
        entities=everyone.select(*ENTITY_COLUMNS),
        matches=matches,
        identities=everyone.where(F.col("entity_kind") == PERSON).select(
            "entity_id", "id_number", "register_id"
        ),
    )
