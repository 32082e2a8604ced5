-- Approval (行政审批, govlake.transform.approval): departments, service items, cases (办件) and
-- licence decisions (行政许可决定). Working days are counted on core.dim_date's workday_number:
-- those after day a up to and including day b are number(b) - number(a).

INSERT INTO core.dim_department BY NAME
SELECT department_id, department_code, name, uscc, region_code, dq_flags
FROM approval_departments;

INSERT INTO core.dim_service_item BY NAME
SELECT item_id, item_code, name, department_id, item_type, legal_limit_days,
    promised_limit_days, online_capable = '是' AS online_capable, dq_flags
FROM approval_service_items;

-- A case's elapsed working days run from its acceptance to its decision (the build day while it
-- is open), suspensions (暂停计时) excluded; it is overdue (超期) past its promised limit.
INSERT INTO core.fct_case BY NAME
WITH cases AS (
    SELECT c.*, i.legal_limit_days, i.promised_limit_days,
        applicant.entity_id AS applicant_entity_id,
        c.accepted_at::DATE AS accepted_on, c.decided_at::DATE AS decided_on
    FROM approval_cases AS c
    LEFT JOIN approval_service_items AS i USING (item_id)
    LEFT JOIN entity_of('approval.cases', 'applicant') AS applicant
        ON applicant.record_key = c.case_id
), timed AS (
    SELECT cases.*,
        until_day.workday_number - accepted.workday_number - suspended_days AS elapsed
    FROM cases
    LEFT JOIN core.dim_date AS accepted ON accepted.day = accepted_on
    LEFT JOIN core.dim_date AS until_day
        ON until_day.day = coalesce(decided_on, getvariable('build_day'))
)
SELECT case_id, case_number, item_id, department_id, applicant_type, applicant_entity_id,
    channel, channel = '网上' AS is_online, submitted_at, accepted_at, decided_at,
    submitted_at::DATE AS submitted_on, accepted_on, decided_on, suspended_days, result,
    licence_number, legal_limit_days, promised_limit_days,
    CASE WHEN accepted_at IS NOT NULL THEN elapsed END AS elapsed_working_days,
    CASE WHEN decided_at IS NOT NULL THEN elapsed <= promised_limit_days END AS on_time_promised,
    CASE WHEN decided_at IS NOT NULL THEN elapsed <= legal_limit_days END AS on_time_legal,
    coalesce(elapsed > promised_limit_days, false) AS overdue,
    dq_flags
FROM timed;

-- A licence decision with its holder's and legal representative's entities (never their ID
-- numbers), the case it decided (by licence number), its publicity lag (双公示: within 7
-- working days of the decision) and whether it is in force on the build day.
INSERT INTO core.fct_licence_decision BY NAME
WITH case_of AS (
    SELECT licence_number, min(case_id) AS case_id
    FROM approval_cases
    WHERE licence_number IS NOT NULL
    GROUP BY licence_number
), lagged AS (
    SELECT d.*, case_of.case_id, holder.entity_id AS holder_entity_id,
        legal_rep.entity_id AS legal_rep_entity_id, d.entered_at::DATE AS entered_on,
        entered.workday_number - decided.workday_number AS publicity_lag_working_days,
        first.first_published_on
    FROM approval_licence_decisions AS d
    LEFT JOIN approval_licence_decisions_first_published AS first ON first._key = row(d.decision_id)
    LEFT JOIN case_of USING (licence_number)
    LEFT JOIN entity_of('approval.licence_decisions', 'holder') AS holder
        ON holder.record_key = d.decision_id
    LEFT JOIN entity_of('approval.licence_decisions', 'legal_rep') AS legal_rep
        ON legal_rep.record_key = d.decision_id
    LEFT JOIN core.dim_date AS decided ON decided.day = d.decision_date
    LEFT JOIN core.dim_date AS entered ON entered.day = d.entered_at::DATE
)
SELECT * EXCLUDE (holder_id_number, legal_rep_id_number, updated_at),
    publicity_lag_working_days <= 7 AS published_on_time,
    status = '有效' AND getvariable('build_day') BETWEEN valid_from AND valid_to AS in_force
FROM lagged;
