UPDATE idempotency_keys SET operation = CASE operation
    WHEN 'open' THEN 'openResolution'
    WHEN 'withdraw' THEN 'withdrawResolution'
    WHEN 'accept' THEN 'acceptResolution'
    WHEN 'deny' THEN 'denyResolution'
    WHEN 'request_more_info' THEN 'requestMoreInfo'
    WHEN 'respond' THEN 'respondToResolution'
    WHEN 'appeal' THEN 'appealResolution'
    WHEN 'request_buyer_info' THEN 'requestBuyerInfo'
    WHEN 'request_merchant_info' THEN 'requestMerchantInfo'
    WHEN 'merchant_wins' THEN 'decideMerchantWins'
    WHEN 'merchant_refund' THEN 'decideMerchantRefund'
    WHEN 'record' THEN 'recordChargebackEvent'
    ELSE operation END;
