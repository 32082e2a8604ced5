-- The entity master (主体库): golden records (core.entity), the match of every party reference
-- (core.entity_match) and the persons' ID numbers (restricted.person_identity); the rules are
-- govlake.transform.entities'.

-- Every party reference of the latest versions (entities.REFERENCES): the source record, the
-- role and the identifiers it gives; `party_type` tells a person from an organisation where the
-- table says, `entity_kind` is set where the role is always a natural person.
CREATE OR REPLACE TEMP VIEW party_references AS
WITH named AS (
    SELECT 'approval.cases' AS dataset, case_id AS source_key, 'applicant' AS role,
        applicant_type AS party_type, applicant_name AS name, applicant_uscc AS uscc,
        applicant_org_code AS org_code, applicant_reg_number AS reg_number,
        applicant_id_number AS id_number
    FROM approval_cases
    UNION ALL BY NAME
    SELECT 'approval.licence_decisions' AS dataset, decision_id AS source_key, 'holder' AS role,
        holder_type AS party_type, holder_name AS name, holder_uscc AS uscc,
        holder_reg_number AS reg_number, holder_id_number AS id_number
    FROM approval_licence_decisions
    UNION ALL BY NAME
    SELECT 'approval.licence_decisions' AS dataset, decision_id AS source_key, 'legal_rep' AS role,
        'person' AS entity_kind, legal_rep_name AS name, legal_rep_id_number AS id_number
    FROM approval_licence_decisions
    UNION ALL BY NAME
    SELECT 'enforcement.penalty_decisions' AS dataset, decision_id AS source_key, 'party' AS role,
        party_type, party_name AS name, party_uscc AS uscc, party_org_code AS org_code,
        party_registration_number AS reg_number, party_id_number AS id_number
    FROM enforcement_penalty_decisions
    UNION ALL BY NAME
    SELECT 'credit.enterprise_register' AS dataset, enterprise_id AS source_key, 'legal_rep' AS role,
        'person' AS entity_kind, legal_rep_name AS name, legal_rep_id_number AS id_number
    FROM credit_enterprise_register
    UNION ALL BY NAME
    SELECT 'credit.tax_credit_levels' AS dataset, record_id AS source_key, 'listed' AS role,
        enterprise_name AS name, uscc
    FROM credit_tax_credit_levels
    UNION ALL BY NAME
    SELECT 'credit.abnormal_operations' AS dataset, record_id AS source_key, 'listed' AS role,
        enterprise_name AS name, uscc
    FROM credit_abnormal_operations
    UNION ALL BY NAME
    SELECT 'credit.serious_dishonesty' AS dataset, record_id AS source_key, 'listed' AS role,
        enterprise_name AS name, uscc
    FROM credit_serious_dishonesty
    UNION ALL BY NAME
    SELECT 'credit.dishonest_debtors' AS dataset, record_id AS source_key, 'debtor' AS role,
        party_type, party_name AS name, uscc, id_number
    FROM credit_dishonest_debtors
    UNION ALL BY NAME
    SELECT 'credit.credit_repairs' AS dataset, repair_id AS source_key, 'repaired' AS role, uscc
    FROM credit_credit_repairs
    UNION ALL BY NAME
    SELECT 'transaction.projects' AS dataset, project_id AS source_key, 'tenderer' AS role,
        tenderer_name AS name, tenderer_uscc AS uscc
    FROM transaction_projects
    UNION ALL BY NAME
    -- A bidder gives one code, of the type it names.
    SELECT 'transaction.bids' AS dataset, bid_id AS source_key, 'bidder' AS role,
        bidder_name AS name,
        CASE WHEN bidder_code_type NOT IN ('组织机构代码', '工商注册号') THEN bidder_code END AS uscc,
        CASE WHEN bidder_code_type = '组织机构代码' THEN bidder_code END AS org_code,
        CASE WHEN bidder_code_type = '工商注册号' THEN bidder_code END AS reg_number
    FROM transaction_bids
    UNION ALL BY NAME
    SELECT 'transaction.bids' AS dataset, bid_id AS source_key, 'agent' AS role,
        'person' AS entity_kind, agent_name AS name, agent_id_number AS id_number
    FROM transaction_bids
    UNION ALL BY NAME
    SELECT 'transaction.awards' AS dataset, award_id AS source_key, 'winner' AS role,
        winner_name AS name, winner_uscc AS uscc
    FROM transaction_awards
), identified AS (  -- the placeholder USCC of a 个体工商户 is no code; org codes lose their dash
    SELECT dataset, source_key::VARCHAR AS source_key, role,
        coalesce(entity_kind, CASE WHEN party_type = '自然人' THEN 'person' ELSE 'enterprise' END)
            AS entity_kind,
        name::VARCHAR AS name,
        CASE WHEN uscc <> '00000000000000000X' THEN uscc END::VARCHAR AS uscc,
        replace(org_code, '-', '')::VARCHAR AS org_code,
        reg_number::VARCHAR AS reg_number,
        id_number::VARCHAR AS id_number
    FROM named
)
SELECT * FROM identified
WHERE coalesce(name, uscc, org_code, reg_number, id_number) IS NOT NULL;

-- The registered enterprises: keyed by USCC, or by the registration number where a 个体工商户
-- has the placeholder; a code registered twice is one entity, the row with the smallest
-- register key.
CREATE OR REPLACE TEMP VIEW registered_firms AS
WITH firms AS (
    SELECT CASE WHEN uscc <> '00000000000000000X' THEN 'E' || uscc
            ELSE 'R' || registration_number END AS entity_id,
        'enterprise' AS entity_kind,
        CASE WHEN uscc <> '00000000000000000X' THEN uscc END AS uscc,
        CASE WHEN uscc <> '00000000000000000X' THEN substring(uscc, 9, 9) END AS org_code,
        registration_number, name, entity_type, status, enterprise_id, true AS registered
    FROM credit_enterprise_register
)
SELECT * EXCLUDE (enterprise_id), enterprise_id::VARCHAR AS register_id
FROM firms
QUALIFY row_number() OVER (PARTITION BY entity_id ORDER BY enterprise_id NULLS FIRST) = 1;

-- The credit system's persons, keyed by the HMAC of their ID number.
CREATE OR REPLACE TEMP VIEW registered_persons AS
SELECT person_key(id_number) AS entity_id, 'person' AS entity_kind,
    NULL::VARCHAR AS uscc, NULL::VARCHAR AS org_code, NULL::VARCHAR AS registration_number,
    name, NULL::VARCHAR AS entity_type, NULL::VARCHAR AS status,
    person_id::VARCHAR AS register_id, true AS registered, id_number
FROM credit_persons
WHERE id_number IS NOT NULL
QUALIFY row_number() OVER (PARTITION BY entity_id ORDER BY person_id NULLS FIRST) = 1;

-- Code -> registered enterprise, for the codes exactly one of them has, by rule.
CREATE OR REPLACE TEMP VIEW firm_codes AS
SELECT rule, code, any_value(entity_id) AS entity_id
FROM (
    SELECT 'uscc' AS rule, uscc AS code, entity_id FROM registered_firms
    UNION ALL SELECT 'org_code', org_code, entity_id FROM registered_firms
    UNION ALL SELECT 'registration_number', registration_number, entity_id FROM registered_firms
    UNION ALL SELECT 'name', match_key(name), entity_id FROM registered_firms
)
WHERE code IS NOT NULL
GROUP BY rule, code
HAVING count(*) = 1;

-- An enterprise reference's entity is the first rule's that finds one (uscc, org_code,
-- registration_number, name), else its own code's (unregistered); a person's is the key of
-- its ID number, known to the credit system or not.
INSERT INTO core.entity_match BY NAME
SELECT r.dataset, r.source_key, r.role, r.entity_kind,
    coalesce(by_uscc.entity_id, by_org_code.entity_id, by_number.entity_id, by_name.entity_id,
        'E' || r.uscc, 'R' || r.reg_number) AS entity_id,
    CASE WHEN by_uscc.entity_id IS NOT NULL THEN 'uscc'
        WHEN by_org_code.entity_id IS NOT NULL THEN 'org_code'
        WHEN by_number.entity_id IS NOT NULL THEN 'registration_number'
        WHEN by_name.entity_id IS NOT NULL THEN 'name'
        WHEN r.uscc IS NOT NULL THEN 'unregistered_uscc'
        WHEN r.reg_number IS NOT NULL THEN 'unregistered_number'
        ELSE 'unresolved' END AS rule
FROM party_references AS r
LEFT JOIN firm_codes AS by_uscc ON by_uscc.rule = 'uscc' AND by_uscc.code = r.uscc
LEFT JOIN firm_codes AS by_org_code ON by_org_code.rule = 'org_code'
    AND by_org_code.code = coalesce(r.org_code, substring(r.uscc, 9, 9))
LEFT JOIN firm_codes AS by_number ON by_number.rule = 'registration_number'
    AND by_number.code = r.reg_number
LEFT JOIN firm_codes AS by_name ON by_name.rule = 'name' AND by_name.code = match_key(r.name)
WHERE r.entity_kind = 'enterprise'
UNION ALL
SELECT r.dataset, r.source_key, r.role, r.entity_kind, r.entity_id,
    CASE WHEN r.entity_id IS NULL THEN 'unresolved'
        WHEN known.entity_id IS NOT NULL THEN 'id_number'
        ELSE 'unregistered_id_number' END AS rule
FROM (SELECT *, person_key(id_number) AS entity_id FROM party_references) AS r
LEFT JOIN registered_persons AS known ON known.entity_id = r.entity_id
WHERE r.entity_kind = 'person';

-- Every entity's golden record: the registered enterprises and persons, then the entities only
-- references know (a code of their own), as the first reference (by dataset, key, role) wrote them.
CREATE OR REPLACE TEMP VIEW golden_records AS
SELECT *, NULL::VARCHAR AS id_number FROM registered_firms
UNION ALL BY NAME
SELECT * FROM registered_persons
UNION ALL BY NAME
SELECT m.entity_id, m.entity_kind, r.uscc, substring(r.uscc, 9, 9) AS org_code,
    r.reg_number AS registration_number, r.name, false AS registered, r.id_number
FROM core.entity_match AS m
JOIN party_references AS r USING (dataset, source_key, role)
WHERE starts_with(m.rule, 'unregistered')
QUALIFY row_number() OVER (
    PARTITION BY m.entity_id ORDER BY dataset, source_key, role
) = 1;

INSERT INTO core.entity BY NAME SELECT * EXCLUDE (id_number) FROM golden_records;

INSERT INTO restricted.person_identity BY NAME
SELECT entity_id, id_number, register_id FROM golden_records WHERE entity_kind = 'person';
