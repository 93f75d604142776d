package io.dbmigrate.connect;
