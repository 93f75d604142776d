package io.dbmigrate.activities;
