-- Enforcement (行政处罚, govlake.transform.enforcement): penalty powers, discretion standards,
-- penalty decisions with their 双公示 fields and the penalty types of each decision.

INSERT INTO core.dim_penalty_power BY NAME
SELECT power_id, power_code, name, department_name, department_uscc, legal_basis, sector, dq_flags
FROM enforcement_penalty_powers;

INSERT INTO core.dim_discretion_standard BY NAME
SELECT standard_id, power_id, circumstance, description, fine_min_yuan, fine_max_yuan, dq_flags
FROM enforcement_discretion_standards;

-- A decision is published with its party's entity (never the ID number), its power's sector,
-- its revocation (撤销): by its status or by the platform's latest revocation record of it, and
-- its first approved 信用修复 in the credit system.
INSERT INTO core.fct_penalty_decision BY NAME
WITH revoked AS (
    SELECT decision_id, max(revoked_on) AS revoked_on
    FROM enforcement_revocations
    GROUP BY decision_id
), repaired AS (
    SELECT record_id AS decision_id, min(decided_on) AS repaired_on
    FROM credit_credit_repairs
    WHERE record_table = 'penalty_decisions' AND decision = '已通过' AND decided_on IS NOT NULL
    GROUP BY record_id
)
SELECT d.* EXCLUDE (party_id_number, updated_at),
    party.entity_id AS party_entity_id, penalty_power.sector, revoked.revoked_on,
    d.status = '已撤销' OR revoked.revoked_on IS NOT NULL AS is_revoked, repaired.repaired_on,
    first.first_published_on,
    date_trunc('month', d.decision_date)::DATE AS decision_month,
    flagged(d.dq_flags, 'party_uscc_org_code') AS flag_party_uscc_org_code,
    flagged(d.dq_flags, 'decision_entered_late') AS flag_decision_entered_late,
    flagged(d.dq_flags, 'fine_in_yuan') AS flag_fine_in_yuan,
    flagged(d.dq_flags, 'fine_outside_band') AS flag_fine_outside_band,
    flagged(d.dq_flags, 'simple_procedure_over_threshold')
        AS flag_simple_procedure_over_threshold
FROM enforcement_penalty_decisions AS d
LEFT JOIN entity_of('enforcement.penalty_decisions', 'party') AS party
    ON party.record_key = d.decision_id
LEFT JOIN enforcement_penalty_powers AS penalty_power USING (power_id)
LEFT JOIN revoked USING (decision_id)
LEFT JOIN repaired USING (decision_id)
LEFT JOIN enforcement_penalty_decisions_first_published AS first
    ON first._key = row(d.decision_id);

-- Each penalty type (处罚类别) a decision imposes, once: its `;`-separated list, trimmed, empty
-- parts dropped.
INSERT INTO core.fct_penalty_decision_type BY NAME
SELECT DISTINCT decision_id, trim(part, ' ') AS penalty_type
FROM (
    SELECT decision_id, unnest(string_split(penalty_types, ';')) AS part
    FROM enforcement_penalty_decisions
)
WHERE trim(part, ' ') <> '';
