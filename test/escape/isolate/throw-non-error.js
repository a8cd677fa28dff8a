// expect: {"status":"error","code":"GUEST_ERROR","message":"uncaught {\"why\":\"not an Error\"}"}
throw { why: 'not an Error' };
