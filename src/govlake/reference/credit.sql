-- Public credit (公共信用信息, govlake.transform.credit): one fact of credit events over the five
-- record tables, and the SCD type 2 history of each registered enterprise's name and 登记状态.

-- An event is active on the build day when it has taken effect, has not ended (移出日期, 有效期至,
-- the next tax rating of the same USCC; a 失信被执行人 record 已移除) and has not been repaired
-- away: an approved repair (信用修复) ends it from its decision day, the record itself stays.
INSERT INTO core.fct_credit_event BY NAME
WITH events AS (
    SELECT 'credit.tax_credit_levels' AS dataset, '纳税信用等级' AS event_type, 'listed' AS role,
        record_id, enterprise_name AS party_name, rated_on AS event_on,
        lead(rated_on) OVER (
            PARTITION BY uscc
            ORDER BY rated_on NULLS FIRST, tax_year NULLS FIRST, record_id NULLS FIRST
        ) AS ends_on,
        level, tax_year::VARCHAR || '年度' AS summary, false AS lifted, dq_flags
    FROM credit_tax_credit_levels
    UNION ALL BY NAME
    SELECT 'credit.abnormal_operations' AS dataset, '经营异常名录' AS event_type, 'listed' AS role,
        record_id, enterprise_name AS party_name, listed_on AS event_on, removed_on AS ends_on,
        authority, reason AS summary, false AS lifted, dq_flags
    FROM credit_abnormal_operations
    UNION ALL BY NAME
    SELECT 'credit.serious_dishonesty' AS dataset, '严重失信主体名单' AS event_type,
        'listed' AS role, record_id, enterprise_name AS party_name, listed_on AS event_on,
        expires_on AS ends_on, authority, sector || '：' || reason AS summary, false AS lifted,
        dq_flags
    FROM credit_serious_dishonesty
    UNION ALL BY NAME
    -- The court's list has no removal date: a record 已移除 has ended, since when is unknown.
    SELECT 'credit.dishonest_debtors' AS dataset, '失信被执行人' AS event_type, 'debtor' AS role,
        record_id, party_name, listed_on AS event_on, court AS authority,
        case_number || '（' || status || '）' AS summary, status = '已移除' AS lifted, dq_flags
    FROM credit_dishonest_debtors
    UNION ALL BY NAME
    -- A repair takes effect on its approval; it names the record it repairs by its event key.
    SELECT 'credit.credit_repairs' AS dataset, '信用修复' AS event_type, 'repaired' AS role,
        repair_id AS record_id, CASE WHEN decision = '已通过' THEN decided_on END AS event_on,
        concat_ws(' ', event_key(record_table, record_id), decision) AS summary,
        false AS lifted, dq_flags
    FROM credit_credit_repairs
), repaired AS (  -- a record's first approved repair
    SELECT event_key(record_table, record_id) AS event_key, min(decided_on) AS repaired_on
    FROM credit_credit_repairs
    WHERE decision = '已通过' AND decided_on IS NOT NULL
    GROUP BY ALL
)
SELECT event_key(split_part(e.dataset, '.', 2), e.record_id) AS event_key, e.dataset,
    e.record_id, party.entity_id, e.event_type, e.party_name, e.event_on, e.ends_on,
    repaired.repaired_on, e.level, e.authority, e.summary,
    e.event_on IS NOT NULL AND e.event_on <= getvariable('build_day')
        AND not_ended(e.ends_on) AND not_ended(repaired.repaired_on) AND NOT e.lifted
        AS is_active,
    e.dq_flags
FROM events AS e
LEFT JOIN core.entity_match AS party
    ON party.dataset = e.dataset AND party.role = e.role
    AND party.source_key::BIGINT = e.record_id
LEFT JOIN repaired ON repaired.event_key = event_key(split_part(e.dataset, '.', 2), e.record_id);

-- Each registered enterprise's every clean version, ordered by the watermark, collapsed to the
-- periods in which (name, status) stayed the same; valid_to is the next period's start. Only
-- enterprises of the entity master have a history, under the entity of their golden record.
INSERT INTO core.dim_entity_history BY NAME
WITH changes AS (
    SELECT enterprise_id, name, status, updated_at,
        lag(name) OVER in_order IS NOT DISTINCT FROM name
            AND lag(status) OVER in_order IS NOT DISTINCT FROM status AS unchanged
    FROM credit_enterprise_register_versions
    WINDOW in_order AS (PARTITION BY enterprise_id ORDER BY updated_at NULLS FIRST)
), periods AS (
    SELECT enterprise_id, name, status, updated_at AS valid_from,
        lead(updated_at) OVER (PARTITION BY enterprise_id ORDER BY updated_at NULLS FIRST)
            AS valid_to
    FROM changes
    WHERE NOT unchanged
)
SELECT firm.entity_id, periods.*, periods.valid_to IS NULL AS is_current
FROM periods
JOIN registered_firms AS firm ON firm.register_id = periods.enterprise_id::VARCHAR;
