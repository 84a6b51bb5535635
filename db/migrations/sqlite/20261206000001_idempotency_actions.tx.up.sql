-- Idempotency records name the action they applied (dispute.Action: respond, accept,
-- open, record...) instead of the GraphQL mutation, so that the record does not
-- depend on the API's spelling. Rename what earlier builds stored, so that a retry
-- of a request made before the upgrade still finds its first result.
UPDATE idempotency_keys SET operation = CASE operation
    WHEN 'openResolution' THEN 'open'
    WHEN 'withdrawResolution' THEN 'withdraw'
    WHEN 'acceptResolution' THEN 'accept'
    WHEN 'denyResolution' THEN 'deny'
    WHEN 'requestMoreInfo' THEN 'request_more_info'
    WHEN 'respondToResolution' THEN 'respond'
    WHEN 'appealResolution' THEN 'appeal'
    WHEN 'requestBuyerInfo' THEN 'request_buyer_info'
    WHEN 'requestMerchantInfo' THEN 'request_merchant_info'
    WHEN 'decideMerchantWins' THEN 'merchant_wins'
    WHEN 'decideMerchantRefund' THEN 'merchant_refund'
    WHEN 'recordChargebackEvent' THEN 'record'
    ELSE operation END;
