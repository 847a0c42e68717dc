# Embeds every NNNN_name.sql file of a folder into a generated C++ source, so that a binary
# carries its migrations and never reads SQL from disk at run time.
function(relais_embed_migrations set_name dir)
  file(GLOB sql_files CONFIGURE_DEPENDS ${dir}/*.sql)
  list(SORT sql_files)
  # A migration edited (not only added or removed) makes CMake run again, so that the binaries never
  # carry an older text of it.
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${sql_files})
  set(out ${CMAKE_BINARY_DIR}/generated/schema/migrations_${set_name}.cc)
  set(body "// Generated from schema/migrations/${set_name}/ by cmake/EmbedMigrations.cmake. Do not edit.\n")
  string(APPEND body "#include \"schema/migrations.h\"\n\nnamespace relais::schema {\n\n")
  string(APPEND body "const std::vector<Migration>& ${set_name}_migrations() {\n")
  string(APPEND body "  static const std::vector<Migration> kMigrations = {\n")
  foreach(f ${sql_files})
    get_filename_component(name ${f} NAME_WE)
    string(REGEX MATCH "^[0-9]+" number ${name})
    math(EXPR number "${number} + 0")
    file(READ ${f} sql)
    string(APPEND body "    {${number}, \"${name}\", R\"RELAIS_SQL(${sql})RELAIS_SQL\"},\n")
  endforeach()
  string(APPEND body "  };\n  return kMigrations;\n}\n\n}  // namespace relais::schema\n")
  file(WRITE ${out}.tmp "${body}")
  configure_file(${out}.tmp ${out} COPYONLY)
endfunction()
