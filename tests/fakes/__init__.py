"""Fakes of outside services that the tests run against as real servers."""
